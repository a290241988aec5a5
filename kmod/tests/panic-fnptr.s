# expect: panic
# The root only takes the address of a table of function pointers; one entry reaches
# core::result::unwrap_failed (legacy mangling). Address-taken counts as reachable.
	.section .text.ravf_isc_rxd_refill,"ax",@progbits
	.globl ravf_isc_rxd_refill
	.type ravf_isc_rxd_refill,@function
ravf_isc_rxd_refill:
	movq $vtable,%rax
	jmp *8(%rax)
	.size ravf_isc_rxd_refill,.-ravf_isc_rxd_refill
	.section .data.rel.ro.vtable,"aw",@progbits
	.type vtable,@object
vtable:
	.quad 0
	.quad entry
	.size vtable,16
	.section .text.entry,"ax",@progbits
	.type entry,@function
entry:
	call _ZN4core6result13unwrap_failed17h0123456789abcdefE
	.size entry,.-entry
	.section .text._ZN4core6result13unwrap_failed17h0123456789abcdefE,"ax",@progbits
	.type _ZN4core6result13unwrap_failed17h0123456789abcdefE,@function
_ZN4core6result13unwrap_failed17h0123456789abcdefE:
	ud2
	.size _ZN4core6result13unwrap_failed17h0123456789abcdefE,.-_ZN4core6result13unwrap_failed17h0123456789abcdefE
