[.advice[] | select(.id == "vm-host-swapped")][0] | (.command | startswith("virsh setmem busy 8388608K --live")) and (.action | test("deflate its balloon \\(1024 MiB held\\)"))
