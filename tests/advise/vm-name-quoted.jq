.advice[0].command | startswith("virsh setmem 'my vm'\\''s' 5976883K --live")
