# expect: reloc
# Small-code-model absolute address: R_X86_64_32, refused by elf_reloc_internal().
	.section .text.ravf_if_init,"ax",@progbits
	.globl ravf_if_init
	.type ravf_if_init,@function
ravf_if_init:
	movl $obj,%eax
	ret
	.size ravf_if_init,.-ravf_if_init
	.section .rodata.obj,"a",@progbits
obj:
	.long 1
