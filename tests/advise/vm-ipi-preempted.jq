[.advice[] | select(.id == "vm-ipi-preempted")][0] | (.command | test("kvm-pv-tlb-flush=on")) and (.evidence | test("800 guest IPIs/s|2000 guest IPIs/s")) and (.evidence | test("40 % of them"))
