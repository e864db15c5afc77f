(.advice[0].command | startswith("qmp: {\"execute\":\"balloon\",\"arguments\":{\"value\":6120328192}}")) and
([.advice[].command | select(test("virsh"))] | length == 0)
