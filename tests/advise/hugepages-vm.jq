.advice[0].command | startswith("echo $(( $(cat /proc/sys/vm/nr_hugepages) + 2048 )) > /proc/sys/vm/nr_hugepages")
