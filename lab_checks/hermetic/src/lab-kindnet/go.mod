module hermetic.invalid/lab-kindnet

go 1.22
