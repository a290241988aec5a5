# expect: sleep
# The timer callout (iflib runs it with the TX queue mutex held) reaches the sx lock
# wrapper through a helper: sleeping with a mutex held.
	.section .text.ravf_if_timer,"ax",@progbits
	.globl ravf_if_timer
	.type ravf_if_timer,@function
ravf_if_timer:
	call helper
	ret
	.size ravf_if_timer,.-ravf_if_timer
	.section .text.helper,"ax",@progbits
	.type helper,@function
helper:
	jmp ravf_kpi_mtx_lock
	.size helper,.-helper
