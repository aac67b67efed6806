"""The gate's proof of itself: the defect catalogue and the detection matrix over it."""
