"""The trusted side of student isolation: the zygote, worker processes, their confinement, and the ``WorkerStudent`` adapter."""
