// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The device's access: the cdev's BIND and ATTACH, VFIO_DEVICE_FEATURE's
 * own argument checks, and the legacy group/container path.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <unistd.h>

#include "vfio/iommufd-ioctl.h"
#include "vfio/vfio-ioctl.h"
#include "groups.h"
#include "probe.h"
#include "results.h"

static int group_get_status(int group, uint32_t argsz, uint32_t *flags)
{
	struct vfio_group_status status = { .argsz = argsz };
	int ret = vmt_vfio_group_get_status_raw(group, &status);

	*flags = status.flags;
	return ret;
}

/*
 * The flags the driver registered: vfio_main.c refuses migration_flags
 * without STOP_COPY (vfio_mig_get_next_state needs the STOP_COPY arcs) and
 * the uAPI defines no others than these three.
 */
static void check_migration_flags(uint64_t flags)
{
	const uint64_t known =
		VFIO_MIGRATION_STOP_COPY | VFIO_MIGRATION_P2P | VFIO_MIGRATION_PRE_COPY;

	check(flags & VFIO_MIGRATION_STOP_COPY,
	      "migration flags 0x%llx include STOP_COPY (vfio_ioctl_device_feature_migration; "
	      "include/uapi/linux/vfio.h: STOP_COPY is mandatory)",
	      (unsigned long long)flags);
	check(!(flags & ~known), "migration flags 0x%llx has no bits beyond STOP_COPY|P2P|PRE_COPY",
	      (unsigned long long)flags);
}

/*
 * vfio_df_ioctl_bind_iommufd (drivers/vfio/device_cdev.c),
 * vfio_device_fops_unl_ioctl (vfio_main.c): nothing but BIND before BIND.
 */
void group_bind(void)
{
	struct vfio_device_info info;
	uint64_t flags = 0;
	uint32_t devid = 0;
	int fd, fd2, iommufd, nullfd, closed_fd;
	unsigned char byte;

	fd = open(conf.cdev[0], O_RDWR | O_CLOEXEC);
	iommufd = open("/dev/iommu", O_RDWR | O_CLOEXEC);
	if (!check(fd >= 0 && iommufd >= 0, "open %s and /dev/iommu", conf.cdev[0]))
		return;
	check_err(get_info(fd, sizeof(info), &info), -EINVAL, "GET_INFO before BIND",
		  "vfio_device_fops_unl_ioctl: !access_granted");
	check_err(feature(fd, VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MIGRATION, &flags,
			  sizeof(flags), sizeof(struct vfio_device_feature) + sizeof(flags)),
		  -EINVAL, "FEATURE GET MIGRATION before BIND",
		  "vfio_device_fops_unl_ioctl: !access_granted");
	check_err(vmt_vfio_device_reset(fd), -EINVAL, "RESET before BIND",
		  "vfio_device_fops_unl_ioctl: !access_granted");
	check_err(attach_pt(fd, 1, 0), -EINVAL, "ATTACH_IOMMUFD_PT before BIND",
		  "vfio_device_fops_unl_ioctl: !access_granted");
	check_err(neg_errno((int)read(fd, &byte, 1)), -EINVAL, "read() of the device before BIND",
		  "vfio_device_fops_read: !access_granted");

	check_err(bind_iommufd(fd, offsetof(struct vfio_device_bind_iommufd, out_devid), 0, iommufd,
			       NULL),
		  -EINVAL, "BIND with argsz short of out_devid",
		  "vfio_df_ioctl_bind_iommufd: argsz < minsz");
	check_err(bind_iommufd(fd, sizeof(struct vfio_device_bind_iommufd), 1, iommufd, NULL),
		  -EINVAL, "BIND with flags 1", "vfio_df_ioctl_bind_iommufd: bind.flags");
	check_err(bind_iommufd(fd, sizeof(struct vfio_device_bind_iommufd), 0, -1, NULL), -EINVAL,
		  "BIND with iommufd -1", "vfio_df_ioctl_bind_iommufd: iommufd < 0");
	nullfd = open("/dev/null", O_RDWR | O_CLOEXEC);
	check_err(bind_iommufd(fd, sizeof(struct vfio_device_bind_iommufd), 0, nullfd, NULL),
		  -EBADFD, "BIND with /dev/null as the iommufd",
		  "iommufd_ctx_from_fd: f_op != iommufd_fops");
	closed_fd = nullfd;
	close(nullfd);
	check_err(bind_iommufd(fd, sizeof(struct vfio_device_bind_iommufd), 0, closed_fd, NULL),
		  -EBADF, "BIND with a closed fd as the iommufd",
		  "iommufd_ctx_from_fd: fget fails");
	check_err(bind_iommufd(fd, sizeof(struct vfio_device_bind_iommufd) + 8, 0, iommufd, &devid),
		  0, "BIND with argsz 8 beyond the struct",
		  "vfio_df_ioctl_bind_iommufd: only minsz read");
	check_err(bind_iommufd(fd, sizeof(struct vfio_device_bind_iommufd), 0, iommufd, NULL),
		  -EINVAL, "second BIND of the same fd",
		  "vfio_df_ioctl_bind_iommufd: access_granted, 'one device cannot be bound twice'");

	fd2 = open(conf.cdev[0], O_RDWR | O_CLOEXEC);
	check(fd2 >= 0, "a second open() of a bound cdev succeeds (vfio_device_fops_cdev_open)");
	if (fd2 >= 0) {
		check_err(bind_iommufd(fd2, sizeof(struct vfio_device_bind_iommufd), 0, iommufd,
				       NULL),
			  -EINVAL, "BIND of a second fd of an opened device",
			  "vfio_df_open: open_count != 0 on the cdev path");
		close(fd2);
	}

	check_err(feature(fd, VFIO_DEVICE_FEATURE_GET | VFIO_DEVICE_FEATURE_MIGRATION, &flags,
			  sizeof(flags), sizeof(struct vfio_device_feature) + sizeof(flags)),
		  0, "FEATURE GET MIGRATION after BIND, before ATTACH", "access_granted at BIND");
	check_err(attach_pt(fd, 1, 1), -EINVAL, "ATTACH with flags 1",
		  "vfio_df_ioctl_attach_pt: attach.flags");
	check_err(attach_pt(fd, 0xfffff, 0), -ENOENT, "ATTACH to a pt_id that does not exist",
		  "iommufd_device_attach: iommufd_get_object");
	{
		uint32_t ioas = 0;

		if (check_err(vmt_iommufd_ioas_alloc(iommufd, &ioas), 0, "IOAS_ALLOC",
			      "iommufd_ioas_alloc_ioctl"))
			check_err(attach_pt(fd, ioas, 0), 0, "ATTACH to the IOAS",
				  "vfio_df_ioctl_attach_pt");
	}
	check_err(get_info(fd, offsetof(struct vfio_device_info, num_irqs), &info), -EINVAL,
		  "GET_INFO with argsz short of num_irqs",
		  "the driver's GET_INFO (mtty_ioctl, vfio_pci_ioctl_get_info): argsz < minsz");
	/* what the device is: reported, the kernel has no rule on it */
	if (check_err(get_info(fd, sizeof(info), &info), 0, "GET_INFO",
		      "vfio_device_fops_unl_ioctl"))
		diag("GET_INFO: flags 0x%x, %u regions, %u irqs", info.flags, info.num_regions,
		     info.num_irqs);
	close(fd);
	close(iommufd);
}

/* vfio_ioctl_device_feature + vfio_check_feature (include/linux/vfio.h) */
void group_feature(void)
{
	const uint32_t hdr = sizeof(struct vfio_device_feature);
	const uint32_t GET = VFIO_DEVICE_FEATURE_GET, SET = VFIO_DEVICE_FEATURE_SET,
		       PROBE = VFIO_DEVICE_FEATURE_PROBE;
	const uint32_t MIGRATION = VFIO_DEVICE_FEATURE_MIGRATION,
		       MIG_STATE = VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE;
	struct vfio_device_feature_migration mig = { 0 };
	struct vfio_device_feature_mig_state st;
	struct dev d;
	uint32_t state = ~0U;

	if (!dev_open_checked(&d, conf.cdev[0]))
		return;
	check_err(feature(d.fd, GET | MIGRATION, &mig, sizeof(mig), 4), -EINVAL,
		  "FEATURE argsz 4, below the header", "vfio_ioctl_device_feature: argsz < minsz");
	check_err(feature(d.fd, GET | MIGRATION | (1u << 20), &mig, sizeof(mig), hdr + sizeof(mig)),
		  -EINVAL, "FEATURE with an unknown flag bit",
		  "vfio_ioctl_device_feature: unknown flags");
	check_err(feature(d.fd, GET | SET | MIGRATION, &mig, sizeof(mig), hdr + sizeof(mig)),
		  -EINVAL, "GET|SET on MIGRATION",
		  "vfio_ioctl_device_feature: GET & SET exclusive without PROBE");
	st = (struct vfio_device_feature_mig_state){ .device_state = ST_STOP };
	check_err(feature(d.fd, GET | SET | MIG_STATE, &st, sizeof(st), hdr + sizeof(st)), -EINVAL,
		  "GET|SET on MIG_DEVICE_STATE",
		  "vfio_ioctl_device_feature: GET & SET exclusive without PROBE");
	check_err(feature(d.fd, PROBE | GET | SET | MIG_STATE, &st, sizeof(st), hdr + sizeof(st)),
		  0, "PROBE|GET|SET on MIG_DEVICE_STATE", "vfio_check_feature: PROBE returns 0");
	check_err(feature(d.fd, PROBE | SET | MIG_STATE, &st, sizeof(st), hdr), 0,
		  "PROBE|SET on MIG_DEVICE_STATE with no payload",
		  "vfio_check_feature: PROBE before the argsz check");
	check_err(mig_get_state(d.fd, &state), 0, "GET MIG_DEVICE_STATE", "migration_get_state");
	check(state == ST_RUNNING, "PROBE|SET changed nothing: state %s, RUNNING expected",
	      sname(state));
	check_err(feature(d.fd, PROBE | MIGRATION, &mig, sizeof(mig), hdr), 0, "PROBE on MIGRATION",
		  "vfio_check_feature");
	check_err(feature(d.fd, PROBE | GET | MIGRATION, &mig, sizeof(mig), hdr), 0,
		  "PROBE|GET on MIGRATION", "vfio_check_feature");
	check_err(feature(d.fd, PROBE | SET | MIGRATION, &mig, sizeof(mig), hdr), -EINVAL,
		  "PROBE|SET on MIGRATION (GET-only feature)",
		  "vfio_check_feature: op not in supported_ops");
	check_err(feature(d.fd, SET | MIGRATION, &mig, sizeof(mig), hdr + sizeof(mig)), -EINVAL,
		  "SET on MIGRATION", "vfio_check_feature: op not in supported_ops");
	check_err(feature(d.fd, MIGRATION, &mig, sizeof(mig), hdr + sizeof(mig)), -EINVAL,
		  "MIGRATION with neither GET, SET nor PROBE",
		  "vfio_check_feature: one of GET or SET");
	check_err(feature(d.fd, GET | MIGRATION, &mig, sizeof(mig), hdr + 4), -EINVAL,
		  "GET MIGRATION with a 4-byte payload", "vfio_check_feature: argsz < minsz");
	check_err(feature(d.fd, GET | MIGRATION, &mig, sizeof(mig), hdr + sizeof(mig) + 16), 0,
		  "GET MIGRATION with argsz 16 beyond the payload",
		  "vfio_check_feature: argsz >= minsz");
	mig.flags = 0;
	if (check_err(feature(d.fd, GET | MIGRATION, &mig, sizeof(mig), hdr + sizeof(mig)), 0,
		      "GET MIGRATION", "vfio_ioctl_device_feature_migration"))
		check_migration_flags(mig.flags);
	st = (struct vfio_device_feature_mig_state){ .device_state = ST_STOP };
	check_err(feature(d.fd, SET | MIG_STATE, &st, sizeof(st), hdr + 4), -EINVAL,
		  "SET MIG_DEVICE_STATE with a 4-byte payload",
		  "vfio_check_feature: argsz < minsz");
	st = (struct vfio_device_feature_mig_state){ .data_fd = FD_POISON };
	if (check_err(feature(d.fd, GET | MIG_STATE, &st, sizeof(st), hdr + sizeof(st)), 0,
		      "GET MIG_DEVICE_STATE", "vfio_ioctl_device_feature_mig_device_state"))
		check(st.device_state == ST_RUNNING && st.data_fd == -1,
		      "GET gives RUNNING and data_fd -1 (got %s, %d)", sname(st.device_state),
		      st.data_fd);
	check_err(feature(d.fd, GET | 60, &mig, sizeof(mig), hdr + sizeof(mig)), -ENOTTY,
		  "GET of feature 60, which nobody implements",
		  "vfio_ioctl_device_feature: no device_feature op");
	dev_close(&d);
}

/*
 * The legacy path to the same device: container, group, GET_DEVICE_FD by
 * name, and its exclusion with the cdev (vfio_device_block_group,
 * vfio_group_fops_open).
 */
void group_group(void)
{
	uint32_t flags = 0;
	int container, grp, grp2, dfd = -1, ret;
	struct dev d;

	if (!conf.group_node || !conf.group_name) {
		check(false, "group: needs --group NODE --name NAME");
		return;
	}
	container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (!check(container >= 0, "open /dev/vfio/vfio"))
		return;
	check_err(vmt_vfio_get_api_version(container), VFIO_API_VERSION, "GET_API_VERSION",
		  "vfio_fops_unl_ioctl: VFIO_API_VERSION");
	check_err(vmt_vfio_check_extension(container, VFIO_TYPE1v2_IOMMU), 1,
		  "CHECK_EXTENSION(TYPE1v2) of an empty container",
		  "vfio_iommu_type1_check_extension");
	check_err(vmt_vfio_set_iommu(container, VFIO_TYPE1v2_IOMMU), -EINVAL,
		  "SET_IOMMU with no group in the container",
		  "vfio_ioctl_set_iommu: list_empty(group_list)");
	grp = open(conf.group_node, O_RDWR | O_CLOEXEC);
	if (!check(grp >= 0, "open the group %s", conf.group_node))
		goto out;
	grp2 = open(conf.group_node, O_RDWR | O_CLOEXEC);
	check_err(grp2 < 0 ? -errno : 0, -EBUSY, "a second open of the group",
		  "vfio_group_fops_open: group->opened_file");
	if (grp2 >= 0)
		close(grp2);
	check_err(group_get_status(grp, 4, &flags), -EINVAL, "GET_STATUS with argsz 4",
		  "vfio_group_ioctl_get_status: argsz < minsz");
	if (check_err(group_get_status(grp, sizeof(struct vfio_group_status), &flags), 0,
		      "GET_STATUS", "vfio_group_ioctl_get_status"))
		check(flags == VFIO_GROUP_FLAGS_VIABLE,
		      "a fresh group is VIABLE, no CONTAINER_SET (flags 0x%x)", flags);
	check_err(vmt_vfio_group_get_device_fd(grp, conf.group_name), -EINVAL,
		  "GET_DEVICE_FD before SET_CONTAINER",
		  "vfio_df_group_open: !vfio_group_has_iommu");
	check_err(vmt_vfio_group_set_container(grp, container), 0, "SET_CONTAINER",
		  "vfio_container_attach_group");
	if (!group_get_status(grp, sizeof(struct vfio_group_status), &flags))
		check(flags == (VFIO_GROUP_FLAGS_VIABLE | VFIO_GROUP_FLAGS_CONTAINER_SET),
		      "GET_STATUS after SET_CONTAINER: VIABLE|CONTAINER_SET (flags 0x%x)", flags);
	check_err(vmt_vfio_group_set_container(grp, container), -EINVAL, "SET_CONTAINER again",
		  "vfio_group_ioctl_set_container: vfio_group_has_iommu");
	check_err(vmt_vfio_group_get_device_fd(grp, conf.group_name), -EINVAL,
		  "GET_DEVICE_FD before SET_IOMMU",
		  "vfio_group_use_container: !container->iommu_driver");
	check_err(vmt_vfio_set_iommu(container, VFIO_TYPE1v2_IOMMU), 0, "SET_IOMMU(TYPE1v2)",
		  "vfio_ioctl_set_iommu");
	check_err(vmt_vfio_set_iommu(container, VFIO_TYPE1v2_IOMMU), -EINVAL, "SET_IOMMU again",
		  "vfio_ioctl_set_iommu: container->iommu_driver");
	check_err(vmt_vfio_group_get_device_fd(grp, "no-such-device"), -ENODEV,
		  "GET_DEVICE_FD of a name not in the group", "vfio_device_get_from_name");
	dfd = vmt_vfio_group_get_device_fd(grp, conf.group_name);
	if (check(dfd >= 0, "GET_DEVICE_FD(%s): %s", conf.group_name,
		  dfd >= 0 ? "an fd" : errname(dfd))) {
		uint32_t state = ~0U;

		ret = fcntl(dfd, F_GETFD);
		check(ret >= 0 && (ret & FD_CLOEXEC), "the device fd is close-on-exec "
						      "(get_unused_fd_flags(O_CLOEXEC))");
		check_err(bind_iommufd(dfd, sizeof(struct vfio_device_bind_iommufd), 0, container,
				       NULL),
			  -EINVAL, "BIND_IOMMUFD on a device fd from the group",
			  "vfio_df_ioctl_bind_iommufd: df->group");
		mig_get_state(dfd, &state);
		check(state == ST_RUNNING, "GET MIG_DEVICE_STATE through the group fd: %s",
		      sname(state));
		if (conf.ncdev >= 1) {
			ret = dev_open(&d, conf.cdev[0]);
			check_err(ret, -EBUSY, "cdev BIND while the group is open",
				  "vfio_device_block_group: group->opened_file");
			dev_close(&d);
		}
		close(dfd);
	}
	close(grp);
	if (conf.ncdev >= 1 && dev_open_checked(&d, conf.cdev[0])) {
		grp = open(conf.group_node, O_RDWR | O_CLOEXEC);
		check_err(grp < 0 ? -errno : 0, -EBUSY, "open the group while the cdev is bound",
			  "vfio_group_fops_open: cdev_device_open_cnt");
		if (grp >= 0)
			close(grp);
		dev_close(&d);
	}
out:
	close(container);
}
