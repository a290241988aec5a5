/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * The per-device sysctl tree (dev.ravf.N.*). The Rust side (ffi/src/sysctl.rs) owns the
 * list of names and reads the values; this file only turns each table entry into a
 * SYSCTL_ADD_PROC node (linker-set and sysctl(9) macros are C) whose handler calls back
 * into Rust with (softc, entry index, queue).
 *
 * Lifetime: newbus frees a device's own sysctl context only after DEVICE_DETACH has
 * returned and the softc is gone (subr_bus.c device_detach), so handlers placed there
 * could run against freed driver state in between. ravf's nodes therefore live in a
 * private context per device, freed by ravf_sysctl_detach() at the start of
 * ifdi_detach, before the Rust state goes away; sysctl_ctx_free() waits for handlers
 * still running (kern_sysctl.c, oid_running).
 */

#include <sys/param.h>
#include <sys/systm.h>
#include <sys/bus.h>
#include <sys/kernel.h>
#include <sys/lock.h>
#include <sys/malloc.h>
#include <sys/mutex.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <sys/sysctl.h>

#include <net/ethernet.h>
#include <net/if.h>
#include <net/if_var.h>
#include <net/iflib.h>

#include "ravf.h"

/* The private sysctl context of each attached device. */
struct ravf_sysctl_dev {
	LIST_ENTRY(ravf_sysctl_dev)	 rsd_link;
	device_t			 rsd_dev;
	struct sysctl_ctx_list		 rsd_ctx;
};

static LIST_HEAD(, ravf_sysctl_dev) ravf_sysctl_devs =
    LIST_HEAD_INITIALIZER(ravf_sysctl_devs);
static struct mtx ravf_sysctl_mtx;
MTX_SYSINIT(ravf_sysctl, &ravf_sysctl_mtx, "ravf sysctl list", MTX_DEF);

/* arg2 packs the table index (low 16 bits) and the queue number (next 16). */
#define	RAVF_ARG2(idx, q)	((intmax_t)(idx) | ((intmax_t)(q) << 16))
#define	RAVF_ARG2_IDX(a)	((uint32_t)((a) & 0xFFFF))
#define	RAVF_ARG2_Q(a)		((uint32_t)(((a) >> 16) & 0xFFFF))

static int
ravf_sysctl_u64(SYSCTL_HANDLER_ARGS)
{
	uint64_t val;
	int error;

	error = ravf_sysctl_get_u64(arg1, RAVF_ARG2_IDX(arg2), RAVF_ARG2_Q(arg2), &val);
	if (error != 0)
		return (error);
	return (sysctl_handle_64(oidp, &val, 0, req));
}

static int
ravf_sysctl_rwint(SYSCTL_HANDLER_ARGS)
{
	uint64_t cur;
	int error, val;

	error = ravf_sysctl_get_u64(arg1, RAVF_ARG2_IDX(arg2), RAVF_ARG2_Q(arg2), &cur);
	if (error != 0)
		return (error);
	val = (int)cur;
	error = sysctl_handle_int(oidp, &val, 0, req);
	if (error != 0 || req->newptr == NULL)
		return (error);
	return (ravf_sysctl_set_int(arg1, RAVF_ARG2_IDX(arg2), val));
}

static int
ravf_sysctl_str(SYSCTL_HANDLER_ARGS)
{
	char buf[128];
	int error;

	error = ravf_sysctl_get_str(arg1, RAVF_ARG2_IDX(arg2), buf, sizeof(buf));
	if (error != 0)
		return (error);
	buf[sizeof(buf) - 1] = '\0';
	return (sysctl_handle_string(oidp, buf, 0, req));
}

static void
ravf_sysctl_add(struct sysctl_ctx_list *ctx, struct sysctl_oid_list *list, void *sc,
    const struct ravf_sysctl_desc *d, uint32_t idx, uint32_t q)
{
	switch (d->rsd_kind) {
	case RAVF_SYSCTL_U64:
		SYSCTL_ADD_PROC(ctx, list, OID_AUTO, d->rsd_name,
		    CTLTYPE_U64 | CTLFLAG_RD | CTLFLAG_MPSAFE, sc, RAVF_ARG2(idx, q),
		    ravf_sysctl_u64, "QU", d->rsd_descr);
		break;
	case RAVF_SYSCTL_RWINT:
		SYSCTL_ADD_PROC(ctx, list, OID_AUTO, d->rsd_name,
		    CTLTYPE_INT | CTLFLAG_RW | CTLFLAG_MPSAFE, sc, RAVF_ARG2(idx, q),
		    ravf_sysctl_rwint, "I", d->rsd_descr);
		break;
	case RAVF_SYSCTL_STR:
		SYSCTL_ADD_PROC(ctx, list, OID_AUTO, d->rsd_name,
		    CTLTYPE_STRING | CTLFLAG_RD | CTLFLAG_MPSAFE, sc, RAVF_ARG2(idx, q),
		    ravf_sysctl_str, "A", d->rsd_descr);
		break;
	}
}

void
ravf_sysctl_attach(if_ctx_t ctx)
{
	device_t dev = iflib_get_dev(ctx);
	if_softc_ctx_t scctx = iflib_get_softc_ctx(ctx);
	void *sc = iflib_get_softc(ctx);
	struct sysctl_oid_list *top = SYSCTL_CHILDREN(device_get_sysctl_tree(dev));
	struct sysctl_oid_list *vsi, *ql;
	struct sysctl_ctx_list *sctx;
	struct sysctl_oid *node;
	struct ravf_sysctl_dev *rd;
	struct ravf_sysctl_desc d;
	char qname[16];
	uint32_t idx;
	int q, nq;

	rd = malloc(sizeof(*rd), M_RAVF, M_WAITOK | M_ZERO);
	rd->rsd_dev = dev;
	sysctl_ctx_init(&rd->rsd_ctx);
	sctx = &rd->rsd_ctx;
	mtx_lock(&ravf_sysctl_mtx);
	LIST_INSERT_HEAD(&ravf_sysctl_devs, rd, rsd_link);
	mtx_unlock(&ravf_sysctl_mtx);

	node = SYSCTL_ADD_NODE(sctx, top, OID_AUTO, "vsi", CTLFLAG_RD | CTLFLAG_MPSAFE,
	    NULL, "VSI statistics (from the PF) and queues");
	vsi = SYSCTL_CHILDREN(node);

	for (idx = 0; ravf_sysctl_desc(idx, &d) == 0 && idx <= 0xFFFF; idx++) {
		switch (d.rsd_node) {
		case RAVF_SYSCTL_NODE_DEV:
			ravf_sysctl_add(sctx, top, sc, &d, idx, 0);
			break;
		case RAVF_SYSCTL_NODE_VSI:
			ravf_sysctl_add(sctx, vsi, sc, &d, idx, 0);
			break;
		}
	}

	/* Queue nodes: one per queue set iflib configured, then that queue's entries. */
	for (int rx = 1; rx >= 0; rx--) {
		nq = rx ? scctx->isc_nrxqsets : scctx->isc_ntxqsets;
		for (q = 0; q < nq && q <= 0xFFFF; q++) {
			snprintf(qname, sizeof(qname), "%sq%02d", rx ? "rx" : "tx", q);
			node = SYSCTL_ADD_NODE(sctx, vsi, OID_AUTO, qname,
			    CTLFLAG_RD | CTLFLAG_MPSAFE, NULL,
			    rx ? "RX queue" : "TX queue");
			ql = SYSCTL_CHILDREN(node);
			for (idx = 0; ravf_sysctl_desc(idx, &d) == 0 && idx <= 0xFFFF;
			    idx++) {
				if (d.rsd_node == (rx ? RAVF_SYSCTL_NODE_RXQ :
				    RAVF_SYSCTL_NODE_TXQ))
					ravf_sysctl_add(sctx, ql, sc, &d, idx, q);
			}
		}
	}
}

void
ravf_sysctl_detach(if_ctx_t ctx)
{
	device_t dev = iflib_get_dev(ctx);
	struct ravf_sysctl_dev *rd;

	mtx_lock(&ravf_sysctl_mtx);
	LIST_FOREACH(rd, &ravf_sysctl_devs, rsd_link) {
		if (rd->rsd_dev == dev) {
			LIST_REMOVE(rd, rsd_link);
			break;
		}
	}
	mtx_unlock(&ravf_sysctl_mtx);
	if (rd == NULL)
		return;
	sysctl_ctx_free(&rd->rsd_ctx);
	free(rd, M_RAVF);
}
