/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * ravf: declarations shared by the C files of if_ravf.ko.
 *
 * The driver is Rust (ffi/, driver/); this shim holds only what C must: the newbus and
 * kobj tables, the if_shared_ctx, linker-set macros (module, sysctl, malloc type), and
 * one-line wrappers over KPIs that are macros or static inlines. Every symbol the two
 * halves share is declared here (C side) and in ffi/src/kpi.rs or ffi/src/sysctl.rs
 * (Rust side); kmod/ravf_abi.c checks the struct layouts both sides rely on.
 */
#ifndef _RAVF_H_
#define _RAVF_H_

/*
 * struct ravf_softc: what iflib allocates (zeroed) per device. One pointer to the Rust
 * per-device state; sys/src/softc.rs (RavfSoftc) mirrors it.
 */
struct ravf_softc {
	void	*rs;
};

MALLOC_DECLARE(M_RAVF);

/*
 * Loader tunables (hw.ravf.*), read by the Rust attach through ravf_kpi_tunables().
 * ffi/src/sysctl.rs mirrors this struct (RavfTunables).
 */
struct ravf_tunables {
	int	rt_rx_itr;
	int	rt_tx_itr;
	int	rt_enable_head_writeback;
	int	rt_debug_mask;
};

extern int ravf_debug_mask;
void	ravf_kpi_tunables(struct ravf_tunables *out);

/*
 * The sysctl table the Rust side publishes (ffi/src/sysctl.rs). C walks it once per
 * device in ravf_sysctl_attach() and creates one node per entry; the handlers call back
 * into Rust with (softc, index, queue).
 */
#define	RAVF_SYSCTL_NODE_DEV	0	/* dev.ravf.N.<name> */
#define	RAVF_SYSCTL_NODE_VSI	1	/* dev.ravf.N.vsi.<name> */
#define	RAVF_SYSCTL_NODE_RXQ	2	/* dev.ravf.N.vsi.rxqNN.<name>, once per RX queue */
#define	RAVF_SYSCTL_NODE_TXQ	3	/* dev.ravf.N.vsi.txqNN.<name>, once per TX queue */

#define	RAVF_SYSCTL_U64		0	/* read-only counter or value */
#define	RAVF_SYSCTL_RWINT	1	/* read-write int (get via u64, set via set_int) */
#define	RAVF_SYSCTL_STR		2	/* read-only string */

struct ravf_sysctl_desc {
	const char	*rsd_name;	/* static, NUL-terminated */
	const char	*rsd_descr;	/* static, NUL-terminated */
	uint32_t	 rsd_node;	/* RAVF_SYSCTL_NODE_* */
	uint32_t	 rsd_kind;	/* RAVF_SYSCTL_{U64,RWINT,STR} */
};

/* Exported by ffi/src/sysctl.rs. All return 0 or an errno. */
int	ravf_sysctl_desc(uint32_t idx, struct ravf_sysctl_desc *out);
int	ravf_sysctl_get_u64(void *sc, uint32_t idx, uint32_t queue, uint64_t *out);
int	ravf_sysctl_get_str(void *sc, uint32_t idx, char *buf, size_t len);
int	ravf_sysctl_set_int(void *sc, uint32_t idx, int value);

void	ravf_sysctl_attach(if_ctx_t ctx);
void	ravf_sysctl_detach(if_ctx_t ctx);

/* Exported by ffi/ (the admin taskqueue's work function). */
void	ravf_admin_task(void *arg);
/* Exported by ffi/: device_detach begins (1) or was refused by iflib (0). */
void	ravf_set_detaching(if_ctx_t ctx, int detaching);

#endif /* _RAVF_H_ */
