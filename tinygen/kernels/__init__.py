"""Kernel choice and lowering: each IR operator becomes typed calls to C kernels in runtime_c."""
