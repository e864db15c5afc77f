([.advice[] | select(.id == "balloon-inflate") | .command][0] == "qmp: {\"execute\":\"balloon\",\"arguments\":{\"value\":671088640}}") and
([.advice[] | select(.id == "balloon-deflate") | .command][0] | startswith("virsh setmem pressed 2491392K --live")) and
([.advice[] | select(.id == "balloon-inflate") | .evidence][0] | contains("working set 512 MiB = 12% of its 4096 MiB"))
