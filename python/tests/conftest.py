import os
import sys

# Tests import the package from this checkout, and pcapgen from here, without installing.
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.dirname(HERE), HERE]
