#include "cli/commands.h"

int main(int argc, char** argv) { return pcapml::RunPcapml(argc, argv); }
