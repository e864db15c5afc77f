[.advice[] | select(.id == "vm-host-swapped")][0] | (.command | startswith("virsh setmem quiet 7969177K --live")) and (.evidence | test("5.0 MiB/s swapped in, 1280 KVM major faults/s"))
