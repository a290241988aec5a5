# expect: none
# A data-path root calling a local helper and an allowlisted KPI wrapper; small frame.
	.section .text.ravf_isc_txd_encap,"ax",@progbits
	.globl ravf_isc_txd_encap
	.type ravf_isc_txd_encap,@function
ravf_isc_txd_encap:
	push %rbp
	mov %rsp,%rbp
	sub $0x100,%rsp
	call helper
	call ravf_kpi_wr32
	movq $table,%rax
	leave
	ret
	.size ravf_isc_txd_encap,.-ravf_isc_txd_encap
	.section .text.helper,"ax",@progbits
	.type helper,@function
helper:
	xor %eax,%eax
	ret
	.size helper,.-helper
	.section .data.rel.ro.table,"aw",@progbits
table:
	.quad helper
