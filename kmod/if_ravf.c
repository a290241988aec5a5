/*-
 * SPDX-License-Identifier: BSD-2-Clause
 *
 * if_ravf: module glue for the ravf Intel Ethernet 700-series VF driver.
 *
 * Only tables live here: the newbus device methods (to iflib_device_*), the ifdi kobj
 * methods (straight to the Rust exports in ffi/, whose C prototypes are the ifdi_*_t
 * typedefs of the generated ifdi_if.h, so the compiler checks every entry), the
 * if_shared_ctx, the PCI ID table and the module declarations. The one decision made in
 * C is the probe priority, so that ravf never takes a VF from iavf(4) by surprise.
 */

#include <sys/param.h>
#include <sys/systm.h>
#include <sys/bus.h>
#include <sys/kernel.h>
#include <sys/malloc.h>
#include <sys/module.h>
#include <sys/socket.h>
#include <sys/sysctl.h>

#include <machine/bus.h>

#include <net/ethernet.h>
#include <net/if.h>
#include <net/if_var.h>
#include <net/if_media.h>
#include <net/iflib.h>

#include <dev/pci/pcireg.h>
#include <dev/pci/pcivar.h>

#include "device_if.h"
#include "ifdi_if.h"

#include "ravf.h"

#define	RAVF_DRIVER_VERSION	"0.1.0"

/*
 * PCI IDs (Intel). 154C is the 700-series VF, 1571 the XL710 VF as seen under
 * Hyper-V, 37CD the X722 VF, 1889 the Adaptive VF. iavf(4) matches 154C, 37CD and 1889
 * (sys/dev/iavf/iavf_drv_info.h); the strings are the ones iavf prints, so dmesg reads
 * the same whichever driver attaches.
 */
static const pci_vendor_info_t ravf_vendor_info[] = {
	PVID(0x8086, 0x154C, "Intel(R) Ethernet Virtual Function 700 Series"),
	PVID(0x8086, 0x1571, "Intel(R) Ethernet Virtual Function 700 Series (HV)"),
	PVID(0x8086, 0x37CD, "Intel(R) Ethernet Virtual Function 700 Series (X722)"),
	PVID(0x8086, 0x1889, "Intel(R) Ethernet Adaptive Virtual Function"),
	PVID_END
};

/* Loader tunables and their read-only sysctls, named after hw.iavf.*. */
SYSCTL_NODE(_hw, OID_AUTO, ravf, CTLFLAG_RD | CTLFLAG_MPSAFE, 0,
    "ravf (Rust Intel 700-series VF driver) parameters");

/*
 * Probe priority. iavf(4) returns BUS_PROBE_DEFAULT (via iflib_device_probe), so by
 * default ravf bids BUS_PROBE_LOW_PRIORITY and iavf wins every VF both drivers know.
 * hw.ravf.prefer=1 makes ravf bid BUS_PROBE_VENDOR, which beats iavf. Per VF,
 * `devctl set driver -f <dev> ravf` overrides both.
 */
static int ravf_prefer = 0;
SYSCTL_INT(_hw_ravf, OID_AUTO, prefer, CTLFLAG_RWTUN, &ravf_prefer, 0,
    "Bid above iavf(4) when probing 700-series VFs (takes effect at the next probe)");

/* iavf's defaults: IXL_ITR_8K (0x3E) for RX, IXL_ITR_4K (0x7A) for TX, in 2 us units. */
static int ravf_rx_itr = 0x3E;
SYSCTL_INT(_hw_ravf, OID_AUTO, rx_itr, CTLFLAG_RDTUN, &ravf_rx_itr, 0,
    "RX interrupt throttling (ITR) at attach, in 2 us units");
static int ravf_tx_itr = 0x7A;
SYSCTL_INT(_hw_ravf, OID_AUTO, tx_itr, CTLFLAG_RDTUN, &ravf_tx_itr, 0,
    "TX interrupt throttling (ITR) at attach, in 2 us units");
static int ravf_enable_head_writeback = 0;
SYSCTL_INT(_hw_ravf, OID_AUTO, enable_head_writeback, CTLFLAG_RDTUN,
    &ravf_enable_head_writeback, 0,
    "TX completion by head write-back instead of descriptor write-back");
int ravf_debug_mask = 0;
SYSCTL_INT(_hw_ravf, OID_AUTO, debug_mask, CTLFLAG_RWTUN, &ravf_debug_mask, 0,
    "Debug message mask (0: no debug messages)");

void
ravf_kpi_tunables(struct ravf_tunables *out)
{
	out->rt_rx_itr = ravf_rx_itr;
	out->rt_tx_itr = ravf_tx_itr;
	out->rt_enable_head_writeback = ravf_enable_head_writeback;
	out->rt_debug_mask = ravf_debug_mask;
}

/* The ifdi methods, implemented in Rust (ffi/src). Prototypes from ifdi_if.h. */
ifdi_attach_pre_t		ravf_if_attach_pre;
ifdi_attach_post_t		ravf_if_attach_post;
ifdi_detach_t			ravf_if_detach;
ifdi_shutdown_t			ravf_if_shutdown;
ifdi_suspend_t			ravf_if_suspend;
ifdi_resume_t			ravf_if_resume;
ifdi_init_t			ravf_if_init;
ifdi_stop_t			ravf_if_stop;
ifdi_msix_intr_assign_t		ravf_if_msix_intr_assign;
ifdi_intr_enable_t		ravf_if_intr_enable;
ifdi_intr_disable_t		ravf_if_intr_disable;
ifdi_rx_queue_intr_enable_t	ravf_if_rx_queue_intr_enable;
ifdi_tx_queue_intr_enable_t	ravf_if_tx_queue_intr_enable;
ifdi_tx_queues_alloc_t		ravf_if_tx_queues_alloc;
ifdi_rx_queues_alloc_t		ravf_if_rx_queues_alloc;
ifdi_queues_free_t		ravf_if_queues_free;
ifdi_update_admin_status_t	ravf_if_update_admin_status;
ifdi_multi_set_t		ravf_if_multi_set;
ifdi_mtu_set_t			ravf_if_mtu_set;
ifdi_media_status_t		ravf_if_media_status;
ifdi_media_change_t		ravf_if_media_change;
ifdi_promisc_set_t		ravf_if_promisc_set;
ifdi_timer_t			ravf_if_timer;
ifdi_vlan_register_t		ravf_if_vlan_register;
ifdi_vlan_unregister_t		ravf_if_vlan_unregister;
ifdi_get_counter_t		ravf_if_get_counter;
ifdi_needs_restart_t		ravf_if_needs_restart;

/* attach_post, then the sysctl tree (its nodes need the queue counts iflib chose). */
static int
ravf_attach_post(if_ctx_t ctx)
{
	int error;

	error = ravf_if_attach_post(ctx);
	if (error == 0)
		ravf_sysctl_attach(ctx);
	return (error);
}

/* The sysctl nodes go first: their handlers read the state ravf_if_detach frees. */
static int
ravf_detach(if_ctx_t ctx)
{
	ravf_sysctl_detach(ctx);
	return (ravf_if_detach(ctx));
}

static device_method_t ravf_if_methods[] = {
	DEVMETHOD(ifdi_attach_pre, ravf_if_attach_pre),
	DEVMETHOD(ifdi_attach_post, ravf_attach_post),
	DEVMETHOD(ifdi_detach, ravf_detach),
	DEVMETHOD(ifdi_shutdown, ravf_if_shutdown),
	DEVMETHOD(ifdi_suspend, ravf_if_suspend),
	DEVMETHOD(ifdi_resume, ravf_if_resume),
	DEVMETHOD(ifdi_init, ravf_if_init),
	DEVMETHOD(ifdi_stop, ravf_if_stop),
	DEVMETHOD(ifdi_msix_intr_assign, ravf_if_msix_intr_assign),
	DEVMETHOD(ifdi_intr_enable, ravf_if_intr_enable),
	DEVMETHOD(ifdi_intr_disable, ravf_if_intr_disable),
	DEVMETHOD(ifdi_rx_queue_intr_enable, ravf_if_rx_queue_intr_enable),
	DEVMETHOD(ifdi_tx_queue_intr_enable, ravf_if_tx_queue_intr_enable),
	DEVMETHOD(ifdi_tx_queues_alloc, ravf_if_tx_queues_alloc),
	DEVMETHOD(ifdi_rx_queues_alloc, ravf_if_rx_queues_alloc),
	DEVMETHOD(ifdi_queues_free, ravf_if_queues_free),
	DEVMETHOD(ifdi_update_admin_status, ravf_if_update_admin_status),
	DEVMETHOD(ifdi_multi_set, ravf_if_multi_set),
	DEVMETHOD(ifdi_mtu_set, ravf_if_mtu_set),
	DEVMETHOD(ifdi_media_status, ravf_if_media_status),
	DEVMETHOD(ifdi_media_change, ravf_if_media_change),
	DEVMETHOD(ifdi_promisc_set, ravf_if_promisc_set),
	DEVMETHOD(ifdi_timer, ravf_if_timer),
	DEVMETHOD(ifdi_vlan_register, ravf_if_vlan_register),
	DEVMETHOD(ifdi_vlan_unregister, ravf_if_vlan_unregister),
	DEVMETHOD(ifdi_get_counter, ravf_if_get_counter),
	DEVMETHOD(ifdi_needs_restart, ravf_if_needs_restart),
	DEVMETHOD_END
};

static driver_t ravf_if_driver = {
	"ravf_if", ravf_if_methods, sizeof(struct ravf_softc)
};

/*
 * Shared context. Values as iavf's iavf_sctx (sys/dev/iavf/if_iavf_iflib.c, with the
 * constants of sys/dev/iavf/iavf_iflib.h): IAVF_MAX_FRAME 9728, IAVF_TSO_SIZE
 * (255 * 1024) - 1, IAVF_MAX_DMA_SEG_SIZE (16 * 1024) - 1, IAVF_MAX_RX_SEGS 5, rings
 * IAVF_MIN_RING 64 / IAVF_DEFAULT_RING 1024 / IAVF_MAX_RING 4096. The descriptor rings
 * need 128-byte alignment (hw-contract: DBA_ALIGN); PAGE_SIZE covers it, as in iavf.
 */
static struct if_shared_ctx ravf_sctx_init = {
	.isc_magic = IFLIB_MAGIC,
	.isc_q_align = PAGE_SIZE,
	.isc_tx_maxsize = 9728,
	.isc_tx_maxsegsize = 9728,
	.isc_tso_maxsize = (255 * 1024) - 1 + sizeof(struct ether_vlan_header),
	.isc_tso_maxsegsize = (16 * 1024) - 1,
	.isc_rx_maxsize = 9728,
	.isc_rx_nsegments = 5,
	.isc_rx_maxsegsize = 9728,
	.isc_nfl = 1,
	.isc_ntxqs = 1,
	.isc_nrxqs = 1,
	.isc_admin_intrcnt = 1,
	.isc_vendor_info = ravf_vendor_info,
	.isc_driver_version = RAVF_DRIVER_VERSION,
	.isc_driver = &ravf_if_driver,
	.isc_flags = IFLIB_NEED_SCRATCH | IFLIB_NEED_ZERO_CSUM | IFLIB_TSO_INIT_IP |
	    IFLIB_IS_VF,
	.isc_nrxd_min = {64},
	.isc_ntxd_min = {64},
	.isc_nrxd_max = {4096},
	.isc_ntxd_max = {4096},
	.isc_nrxd_default = {1024},
	.isc_ntxd_default = {1024},
};

static void *
ravf_register(device_t dev __unused)
{
	return (&ravf_sctx_init);
}

static int
ravf_probe(device_t dev)
{
	int rc;

	rc = iflib_device_probe(dev);
	if (rc != BUS_PROBE_DEFAULT)
		return (rc);
	return (ravf_prefer ? BUS_PROBE_VENDOR : BUS_PROBE_LOW_PRIORITY);
}

/*
 * device_detach: iflib_device_detach detaches iflib's admin task from its taskqueue
 * (14.x iflib_tqg_detach) before it calls IFDI_DETACH, and enqueueing that task
 * afterwards dereferences a NULL taskqueue. ravf's own admin task enqueues it when the
 * link changes, so tell the Rust side first (it stops doing so and drains its task),
 * and undo that if iflib refuses to detach (EBUSY while a VLAN uses the interface).
 * iflib's device softc is its context (iflib_device_register: device_set_softc).
 */
static int
ravf_device_detach(device_t dev)
{
	if_ctx_t ctx = device_get_softc(dev);
	int error;

	if (ctx != NULL)
		ravf_set_detaching(ctx, 1);
	error = iflib_device_detach(dev);
	if (error != 0 && ctx != NULL)
		ravf_set_detaching(ctx, 0);
	return (error);
}

static device_method_t ravf_methods[] = {
	DEVMETHOD(device_register, ravf_register),
	DEVMETHOD(device_probe, ravf_probe),
	DEVMETHOD(device_attach, iflib_device_attach),
	DEVMETHOD(device_detach, ravf_device_detach),
	DEVMETHOD(device_shutdown, iflib_device_shutdown),
	DEVMETHOD(device_suspend, iflib_device_suspend),
	DEVMETHOD(device_resume, iflib_device_resume),
	DEVMETHOD_END
};

static driver_t ravf_driver = {
	"ravf", ravf_methods, sizeof(struct ravf_softc)
};

DRIVER_MODULE(ravf, pci, ravf_driver, 0, 0);
IFLIB_PNP_INFO(pci, ravf, ravf_vendor_info);
MODULE_VERSION(ravf, 1);
MODULE_DEPEND(ravf, pci, 1, 1, 1);
MODULE_DEPEND(ravf, ether, 1, 1, 1);
MODULE_DEPEND(ravf, iflib, 1, 1, 1);
