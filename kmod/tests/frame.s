# expect: frame
# An 8 KiB stack frame: half of an amd64 kernel stack.
	.section .text.ravf_if_attach_pre,"ax",@progbits
	.globl ravf_if_attach_pre
	.type ravf_if_attach_pre,@function
ravf_if_attach_pre:
	push %rbp
	mov %rsp,%rbp
	sub $0x2000,%rsp
	leave
	ret
	.size ravf_if_attach_pre,.-ravf_if_attach_pre
