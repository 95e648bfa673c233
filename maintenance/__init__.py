"""Operations on the data after an incident: counters reconciled with their edges, and the
checks and repairs of `photogram doctor`. Domain code: it calls the repositories, nothing
above them."""
