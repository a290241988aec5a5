# expect: panic
# root -> helper -> core::panicking::panic_bounds_check (v0 mangling), all defined here.
	.section .text.ravf_isc_rxd_pkt_get,"ax",@progbits
	.globl ravf_isc_rxd_pkt_get
	.type ravf_isc_rxd_pkt_get,@function
ravf_isc_rxd_pkt_get:
	call _RNvCs1_4ravf6helper
	ret
	.size ravf_isc_rxd_pkt_get,.-ravf_isc_rxd_pkt_get
	.section .text._RNvCs1_4ravf6helper,"ax",@progbits
	.type _RNvCs1_4ravf6helper,@function
_RNvCs1_4ravf6helper:
	cmp $4,%rdi
	jae 1f
	ret
1:	call _RNvNtCs6xxKPjeta0A_4core9panicking18panic_bounds_check
	.size _RNvCs1_4ravf6helper,.-_RNvCs1_4ravf6helper
	.section .text.unlikely._RNvNtCs6xxKPjeta0A_4core9panicking18panic_bounds_check,"ax",@progbits
	.type _RNvNtCs6xxKPjeta0A_4core9panicking18panic_bounds_check,@function
_RNvNtCs6xxKPjeta0A_4core9panicking18panic_bounds_check:
	ud2
	.size _RNvNtCs6xxKPjeta0A_4core9panicking18panic_bounds_check,.-_RNvNtCs6xxKPjeta0A_4core9panicking18panic_bounds_check
