[.advice[] | select(.id == "ksm-enable") | .evidence | contains("stale: not used")] == [true]
