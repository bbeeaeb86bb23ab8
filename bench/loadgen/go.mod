module casefold.local/loadgen

go 1.26
