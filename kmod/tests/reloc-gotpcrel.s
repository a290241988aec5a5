# expect: reloc undef
# PIC access to an external symbol through the GOT: R_X86_64_REX_GOTPCRELX, and the
# assembler adds an undefined _GLOBAL_OFFSET_TABLE_ (not a kernel symbol) as well.
	.section .text.ravf_if_init,"ax",@progbits
	.globl ravf_if_init
	.type ravf_if_init,@function
ravf_if_init:
	movq ravf_kpi_rd32@GOTPCREL(%rip),%rax
	call *%rax
	ret
	.size ravf_if_init,.-ravf_if_init
