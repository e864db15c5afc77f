.advice[0].command == "echo 950 > /sys/kernel/mm/ksm/pages_to_scan" and (.advice[0].evidence | test("2000000 vs 1000000"))
