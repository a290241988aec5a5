# expect: frame
# max-frame: 8192
# A 10 KiB frame allocated with inline stack probes, as rustc/LLVM emit it: page-sized
# steps of 0x1000 (each under the 8 KiB limit on its own) and a remainder.
	.section .text.ravf_if_attach_pre,"ax",@progbits
	.globl ravf_if_attach_pre
	.type ravf_if_attach_pre,@function
ravf_if_attach_pre:
	push %rbp
	mov %rsp,%rbp
	sub $0x1000,%rsp
	movq $0,(%rsp)
	sub $0x1000,%rsp
	movq $0,(%rsp)
	sub $0x800,%rsp
	add $0x2800,%rsp
	pop %rbp
	ret
	.size ravf_if_attach_pre,.-ravf_if_attach_pre
