.advice[0].command == "echo 2 > /sys/kernel/mm/ksm/run"
