# expect: fpu
# One SSE move in an otherwise clean function (not on the data path).
	.section .text.ravf_if_init,"ax",@progbits
	.globl ravf_if_init
	.type ravf_if_init,@function
ravf_if_init:
	movaps %xmm0,(%rdi)
	ret
	.size ravf_if_init,.-ravf_if_init
