# expect: undef
# A call to a function the allowlist does not know.
	.section .text.ravf_if_init,"ax",@progbits
	.globl ravf_if_init
	.type ravf_if_init,@function
ravf_if_init:
	call not_a_freebsd_kpi
	ret
	.size ravf_if_init,.-ravf_if_init
