#!/usr/bin/env bash
# Prints the 10,000-rule TOML file the benchmarks label with: 6,000 hosts of
# 198.18.0.0/16 (sources), 3,999 /28 prefixes of 198.19.0.0/16
# (destinations), then a catch-all so that every packet is labeled.
awk 'BEGIN {
  for (i = 0; i < 6000; i++) {
    h = (i * 10007) % 65536
    printf "[[rule]]\nid = \"host%d\"\nlabel = \"host%d\"\nfilter = \"host 198.18.%d.%d\"\n\n", i, i, int(h / 256), h % 256
  }
  for (i = 0; i < 3999; i++) {
    n = (i * 7) % 4096
    printf "[[rule]]\nid = \"net%d\"\nlabel = \"net%d\"\nfilter = \"net 198.19.%d.%d/28\"\n\n", i, i, int(n / 16), (n % 16) * 16
  }
  printf "[[rule]]\nid = \"rest\"\nlabel = \"rest\"\nfilter = \"ip or ip6\"\n"
}'
