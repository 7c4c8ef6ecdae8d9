"""The similarity report: fingerprints of student-written code and the pairs that share it."""
