# expect: panic
# The root tail-jumps to a local label, which the assembler relocates against the section
# symbol (.text.cold + addend); the code there calls the panic handler.
	.section .text.ravf_isc_txd_flush,"ax",@progbits
	.globl ravf_isc_txd_flush
	.type ravf_isc_txd_flush,@function
ravf_isc_txd_flush:
	test %rdi,%rdi
	jne .Lcold
	ret
	.size ravf_isc_txd_flush,.-ravf_isc_txd_flush
	.section .text.cold,"ax",@progbits
	nop
	nop
.Lcold:
	call rust_begin_unwind
	.section .text.rust_begin_unwind,"ax",@progbits
	.type rust_begin_unwind,@function
rust_begin_unwind:
	jmp ravf_kpi_panic
	.size rust_begin_unwind,.-rust_begin_unwind
