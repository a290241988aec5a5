# expect: sections
# A thread-local variable: the kernel linker has no TLS.
	.section .tbss,"awT",@nobits
	.type tlsvar,@object
tlsvar:
	.zero 8
	.size tlsvar,8
	.section .text.ravf_if_init,"ax",@progbits
	.globl ravf_if_init
	.type ravf_if_init,@function
ravf_if_init:
	ret
	.size ravf_if_init,.-ravf_if_init
