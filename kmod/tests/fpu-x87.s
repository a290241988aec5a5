# expect: fpu
# An x87 load (long double), which soft-float code must never contain.
	.section .text.ravf_if_init,"ax",@progbits
	.globl ravf_if_init
	.type ravf_if_init,@function
ravf_if_init:
	fldt (%rdi)
	fstpt (%rsi)
	ret
	.size ravf_if_init,.-ravf_if_init
