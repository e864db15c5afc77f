// SPDX-License-Identifier: MIT
/* VM facts from a VMM's command line: name, UUID, vCPUs, configured memory, QMP socket. QEMU
 * option syntax (util/qemu-option.c): comma-separated key=value lists, ",," is a literal
 * comma, a bare "key" is key=on and "nokey" key=off for booleans. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "vmm_info.h"

bool vmm_comm_is_known(const char *comm)
{
	return !strncmp(comm, "qemu-system-", 12) || !strcmp(comm, "qemu-kvm") ||
	       !strcmp(comm, "firecracker") || !strncmp(comm, "cloud-hypervis", 14) ||
	       !strcmp(comm, "crosvm");
}

/* Element idx of a QEMU option list into out (",," unescaped). Returns false if absent. */
static bool opt_elem(const char *list, int idx, char *out, size_t outsz)
{
	size_t o = 0;
	int i = 0;

	for (const char *p = list;; p++) {
		if (*p == ',' && p[1] == ',') {
			if (i == idx && o + 1 < outsz)
				out[o++] = ',';
			p++;
			continue;
		}
		if (*p == ',' || !*p) {
			if (i == idx) {
				out[o] = 0;
				return true;
			}
			if (!*p)
				return false;
			i++;
			continue;
		}
		if (i == idx && o + 1 < outsz)
			out[o++] = *p;
	}
}

/* Value of key=... in an option list, or of the first element without '=' when key is
 * NULL-implied (implied_first). */
static bool opt_get(const char *list, const char *key, bool implied_first, char *out, size_t outsz)
{
	char el[256];
	size_t n = strlen(key);

	for (int i = 0; opt_elem(list, i, el, sizeof(el)); i++) {
		if (!strncmp(el, key, n) && el[n] == '=') {
			snprintf(out, outsz, "%s", el + n + 1);
			return true;
		}
		if (i == 0 && implied_first && !strchr(el, '=')) {
			snprintf(out, outsz, "%s", el);
			return true;
		}
	}
	return false;
}

/* Boolean option key (QEMU's qapi_bool_parse words, or bare key / nokey): 1 and *out
 * set if present, 0 if absent, -EINVAL for another value. */
static int opt_bool(const char *list, const char *key, bool *out)
{
	static const char *const yes[] = { "on", "yes", "true", "y" }, *const no[] = { "off", "no", "false", "n" };
	size_t n = strlen(key);
	char el[256];

	for (int i = 0; opt_elem(list, i, el, sizeof(el)); i++) {
		if (!strcmp(el, key) || (!strncmp(el, "no", 2) && !strcmp(el + 2, key))) {
			*out = !strcmp(el, key);
			return 1;
		}
		if (strncmp(el, key, n) || el[n] != '=')
			continue;
		for (int k = 0; k < 4; k++) {
			if (!strcmp(el + n + 1, yes[k]) || !strcmp(el + n + 1, no[k])) {
				*out = !strcmp(el + n + 1, yes[k]);
				return 1;
			}
		}
		return -EINVAL;
	}
	return 0;
}

/* A socket chardev's options (chardev/char-socket.c qemu_chr_parse_socket): 1 and path /
 * *abstract set if it is a unix socket QEMU listens on, 0 if not (tcp, client mode, fd=),
 * -EINVAL if malformed. implied_path: the first element is the path (-qmp unix:PATH). */
static int unix_server(const char *opts, bool implied_path, char path[VMM_QMP_PATH_MAX], bool *abstract)
{
	bool server = false, abs = false;
	char p[256];

	if (!opt_get(opts, "path", implied_path, p, sizeof(p)))
		return 0;
	if (!p[0] || strlen(p) >= VMM_QMP_PATH_MAX || opt_bool(opts, "server", &server) < 0 ||
	    opt_bool(opts, "abstract", &abs) < 0)
		return -EINVAL;
	if (!server)
		return 0;
	memcpy(path, p, strlen(p) + 1);
	*abstract = abs;
	return 1;
}

#define QMP_CANDIDATES	8

/* QMP monitors in command-line order: a socket (-qmp) or a chardev id (-mon ...,mode=control),
 * and the unix server chardevs they may name. */
struct qmp_scan {
	struct { char chardev[64]; char path[VMM_QMP_PATH_MAX]; bool abstract; } mon[QMP_CANDIDATES];
	struct { char id[64]; char path[VMM_QMP_PATH_MAX]; bool abstract; } dev[QMP_CANDIDATES];
	int nr_mon, nr_dev;
};

static int qmp_scan_arg(struct qmp_scan *q, const char *opt, const char *v)
{
	char be[16], id[64], mode[16];
	int r;

	if (!strcmp(opt, "-qmp") || !strcmp(opt, "-qmp-pretty")) {
		if (strncmp(v, "unix:", 5) || q->nr_mon >= QMP_CANDIDATES)
			return 0;	/* tcp:, stdio, ... are not sockets we can reach */
		r = unix_server(v + 5, true, q->mon[q->nr_mon].path, &q->mon[q->nr_mon].abstract);
		if (r == 1)
			q->mon[q->nr_mon++].chardev[0] = 0;
		return r < 0 ? r : 0;
	}
	if (!strcmp(opt, "-chardev")) {
		if (!opt_get(v, "backend", true, be, sizeof(be)) || strcmp(be, "socket") ||
		    !opt_get(v, "id", false, id, sizeof(id)) || !id[0] || q->nr_dev >= QMP_CANDIDATES)
			return 0;
		r = unix_server(v, false, q->dev[q->nr_dev].path, &q->dev[q->nr_dev].abstract);
		if (r == 1)
			snprintf(q->dev[q->nr_dev++].id, sizeof(q->dev[0].id), "%s", id);
		return r < 0 ? r : 0;
	}
	if (!strcmp(opt, "-mon")) {
		if (!opt_get(v, "chardev", true, id, sizeof(id)) || !id[0] ||
		    !opt_get(v, "mode", false, mode, sizeof(mode)) || strcmp(mode, "control") ||
		    q->nr_mon >= QMP_CANDIDATES)
			return 0;	/* mode=readline is the human monitor */
		snprintf(q->mon[q->nr_mon++].chardev, sizeof(q->mon[0].chardev), "%s", id);
	}
	return 0;
}

/* The first QMP monitor whose socket is known. */
static void qmp_scan_pick(const struct qmp_scan *q, struct vmm_qmp *out)
{
	for (int i = 0; i < q->nr_mon; i++) {
		const char *path = q->mon[i].path;
		bool abstract = q->mon[i].abstract;

		if (q->mon[i].chardev[0]) {
			path = NULL;
			for (int d = 0; d < q->nr_dev && !path; d++)
				if (!strcmp(q->dev[d].id, q->mon[i].chardev))
					path = q->dev[d].path, abstract = q->dev[d].abstract;
		}
		if (path) {
			snprintf(out->socket, sizeof(out->socket), "%s", path);
			out->abstract = abstract;
			return;
		}
	}
}

static int parse_count(const char *s, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (!*s || *s == '-')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v == 0 || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

/* "512", "512M", "2G", "1.5G" -> KiB; a number without suffix is in default_unit_kb. */
static int parse_size_kb(const char *s, uint64_t default_unit_kb, uint64_t *out)
{
	double v, mult;
	char *end;

	if (!*s || *s == '-')
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || !isfinite(v) || v <= 0)
		return -EINVAL;
	switch (*end) {
	case 0: mult = default_unit_kb; break;
	case 'k': case 'K': mult = 1; break;
	case 'm': case 'M': mult = 1024; break;
	case 'g': case 'G': mult = 1024.0 * 1024; break;
	case 't': case 'T': mult = 1024.0 * 1024 * 1024; break;
	default: return -EINVAL;
	}
	if (*end && end[1] && strcmp(end + 1, "B") && strcmp(end + 1, "iB") && strcmp(end + 1, "b"))
		return -EINVAL;
	v *= mult;
	if (v > 1e15)		/* over an exbibyte of guest RAM: garbage */
		return -EINVAL;
	*out = (uint64_t)v;
	return 0;
}

static int parse_qemu_smp(const char *v, struct vmm_info *out)
{
	char s[64];
	uint64_t n = 0, product = 1, x;
	bool any = false;

	if (opt_get(v, "cpus", true, s, sizeof(s)))
		return parse_count(s, 1 << 20, &n) ? -EINVAL : (out->vcpus = (struct opt_u64){ n, true }, 0);
	for (const char *const *k = (const char *const[]){ "sockets", "dies", "clusters", "cores", "threads", NULL };
	     *k; k++) {
		if (!opt_get(v, *k, false, s, sizeof(s)))
			continue;
		if (parse_count(s, 1 << 20, &x))
			return -EINVAL;
		product *= x;
		any = true;
	}
	if (!any || product > (1 << 20))
		return -EINVAL;
	out->vcpus = (struct opt_u64){ product, true };
	return 0;
}

/* "-smbios type=1,...,uuid=U" (hw/smbios/smbios.c, the System Information table): what
 * Proxmox VE passes instead of -uuid. 1 if it carried a valid UUID, 0 if not type 1. */
static int smbios_uuid(const char *v, char uuid[VMM_UUID_LEN + 1])
{
	char type[8], u[64];

	if (!opt_get(v, "type", false, type, sizeof(type)) || strcmp(type, "1") ||
	    !opt_get(v, "uuid", false, u, sizeof(u)))
		return 0;
	return vmm_uuid_parse(u, uuid) ? -EINVAL : 1;
}

/* libvirt keeps each domain's private files under .../libvirt/qemu/domain-ID-NAME/ (the
 * master key secret, older monitors) or /run/libvirt/: src/qemu/qemu_domain.c */
static bool libvirt_path(const char *a)
{
	return strstr(a, "/libvirt/qemu/") || strstr(a, "/run/libvirt/");
}

int vmm_cmdline_parse(const char *buf, size_t len, struct vmm_info *out)
{
	static __thread const char *args[2048];	/* libvirt's command lines run to 10+ KiB */
	static __thread char copy[32768];
	char val[256];
	struct qmp_scan qmp = { .nr_mon = 0 };
	enum { QEMU, FIRECRACKER, CLOUD_HYPERVISOR, CROSVM } kind = QEMU;
	int argc = 0, ret = 0;
	uint64_t x;

	if (len >= sizeof(copy))
		len = sizeof(copy) - 1;
	memcpy(copy, buf, len);
	copy[len] = 0;		/* the last argument may lack its NUL */
	for (size_t i = 0; i < len && argc < (int)(sizeof(args) / sizeof(args[0])); i += strlen(copy + i) + 1)
		args[argc++] = copy + i;
	if (argc == 0)
		return 0;
	if (strstr(args[0], "firecracker"))
		kind = FIRECRACKER;
	else if (strstr(args[0], "cloud-hypervisor"))
		kind = CLOUD_HYPERVISOR;
	else if (strstr(args[0], "crosvm"))
		kind = CROSVM;

	for (int i = 1; i < argc; i++) {
		const char *a = args[i], *v = i + 1 < argc ? args[i + 1] : NULL;

		if (a[0] == '-' && a[1] == '-' && kind == QEMU)
			a++;		/* QEMU takes -opt and --opt alike */
		if (kind == QEMU && libvirt_path(args[i]))
			out->libvirt_hint = true;
		if (!v)
			break;
		switch (kind) {
		case QEMU:
			if (!strcmp(a, "-name")) {
				if (opt_get(v, "guest", true, val, sizeof(val)) && val[0]) {
					snprintf(out->name, sizeof(out->name), "%.*s", (int)sizeof(out->name) - 1, val);
					out->named = true;
				}
			} else if (!strcmp(a, "-uuid")) {
				if (vmm_uuid_parse(v, out->uuid))
					ret = -EINVAL;
			} else if (!strcmp(a, "-smbios")) {
				char u[VMM_UUID_LEN + 1];
				int r = smbios_uuid(v, u);

				if (r < 0)
					ret = -EINVAL;
				else if (r && !out->uuid[0])	/* -uuid wins: QEMU uses it for SMBIOS too */
					memcpy(out->uuid, u, sizeof(u));
			} else if (!strcmp(a, "-id")) {
				/* Proxmox VE's qemu-server passes the VMID as -id (a patch of its QEMU) */
				uint64_t id;

				if (parse_count(v, 999999999, &id))
					ret = -EINVAL;
				else
					snprintf(out->vmid, sizeof(out->vmid), "%llu", (unsigned long long)id);
			} else if (!strcmp(a, "-smp")) {
				ret |= parse_qemu_smp(v, out);
			} else if (!strcmp(a, "-m")) {
				if (!opt_get(v, "size", true, val, sizeof(val)) || parse_size_kb(val, 1024, &x))
					ret = -EINVAL;
				else
					out->mem_configured_kb = (struct opt_u64){ x, true };
			} else if (!strcmp(a, "-qmp") || !strcmp(a, "-qmp-pretty") || !strcmp(a, "-chardev") ||
				   !strcmp(a, "-mon")) {
				ret |= qmp_scan_arg(&qmp, a, v);
			} else {
				continue;
			}
			break;
		case FIRECRACKER:
			if (!strcmp(a, "--id") && v[0]) {
				snprintf(out->name, sizeof(out->name), "%.*s", (int)sizeof(out->name) - 1, v);
				out->named = true;
			} else {
				continue;
			}
			break;
		case CLOUD_HYPERVISOR:
			if (!strcmp(a, "--cpus")) {
				if (!opt_get(v, "boot", false, val, sizeof(val)) || parse_count(val, 1 << 20, &x))
					ret = -EINVAL;
				else
					out->vcpus = (struct opt_u64){ x, true };
			} else if (!strcmp(a, "--platform")) {
				/* vmm/src/config.rs PlatformConfig: uuid= is the SMBIOS system UUID */
				if (opt_get(v, "uuid", false, val, sizeof(val)) && vmm_uuid_parse(val, out->uuid))
					ret = -EINVAL;
			} else if (!strcmp(a, "--memory")) {
				if (!opt_get(v, "size", false, val, sizeof(val)) || parse_size_kb(val, 1, &x))
					ret = -EINVAL;
				else
					out->mem_configured_kb = (struct opt_u64){ x / (val[strlen(val) - 1] >= '0' &&
						val[strlen(val) - 1] <= '9' ? 1024 : 1), true };
			} else {
				continue;
			}
			break;
		case CROSVM:
			if (!strcmp(a, "--cpus") || !strcmp(a, "-c")) {
				if (!opt_get(v, "num-cores", true, val, sizeof(val)) || parse_count(val, 1 << 20, &x))
					ret = -EINVAL;
				else
					out->vcpus = (struct opt_u64){ x, true };
			} else if (!strcmp(a, "--mem") || !strcmp(a, "-m")) {
				if (!opt_get(v, "size", true, val, sizeof(val)) || parse_size_kb(val, 1024, &x))
					ret = -EINVAL;
				else
					out->mem_configured_kb = (struct opt_u64){ x, true };
			} else {
				continue;
			}
			break;
		}
		i++;		/* consumed the value */
	}
	if (kind == QEMU)
		qmp_scan_pick(&qmp, &out->qmp);
	return ret ? -EINVAL : 0;
}

int vmm_uuid_parse(const char *s, char out[VMM_UUID_LEN + 1])
{
	char u[VMM_UUID_LEN + 1];

	if (strlen(s) != VMM_UUID_LEN)
		return -EINVAL;
	for (int i = 0; i < VMM_UUID_LEN; i++) {
		char c = s[i];

		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (c != '-')
				return -EINVAL;
		} else if (c >= '0' && c <= '9') {
		} else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f') {
			c |= 0x20;
		} else {
			return -EINVAL;
		}
		u[i] = c;
	}
	u[VMM_UUID_LEN] = 0;
	memcpy(out, u, sizeof(u));
	return 0;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c |= 0x20;
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int cgroup_machine_parse(const char *text, char *out, size_t outsz)
{
	/* "HIERARCHY:CONTROLLERS:PATH" lines; systemd puts a machine's processes in
	 * machine.slice/machine-NAME.scope (src/machine/machined-dbus.c, unit_name_escape) */
	for (const char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		const char *end = strchr(line, '\n'), *p;

		if (!end)
			end = line + strlen(line);
		for (p = line; (p = strstr(p, "/machine-")) && p < end; p++) {
			const char *name = p + 9, *stop = name;
			size_t o = 0;

			while (stop < end && *stop != '/')
				stop++;
			if (stop - name < 7 || strncmp(stop - 6, ".scope", 6))
				continue;
			for (const char *q = name; q < stop - 6; q++) {
				int c = (unsigned char)*q;

				if (c == '\\') {
					int h, l;

					if (stop - 6 - q < 4 || q[1] != 'x' || (h = hexval(q[2])) < 0 ||
					    (l = hexval(q[3])) < 0)
						return -EINVAL;
					c = h << 4 | l;
					q += 3;
				}
				if (!c || o + 1 >= outsz)
					return -EINVAL;
				out[o++] = c;
			}
			out[o] = 0;
			return 0;
		}
	}
	/* without systemd, libvirt makes the cgroup itself: machine/qemu-ID-NAME.libvirt-qemu
	 * (virCgroupNewMachineManual, src/util/vircgroup.c; a leading '_' escapes the name) */
	for (const char *line = text; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		const char *end = strchr(line, '\n'), *p = strstr(line, "/machine/"), *name, *stop;
		size_t n;

		if (!end)
			end = line + strlen(line);
		if (!p || p > end)
			continue;
		name = p + 9;
		if (*name == '_')
			name++;
		for (stop = name; stop < end && *stop != '/'; stop++)
			;
		n = stop - name;
		if (n <= 13 || strncmp(stop - 13, ".libvirt-qemu", 13))
			continue;
		n -= 13;
		if (n + 1 > outsz || memchr(name, 0, n))
			return -EINVAL;
		memcpy(out, name, n);
		out[n] = 0;
		return 0;
	}
	return -ENOENT;
}

void vmm_identity_finish(struct vmm_info *out)
{
	const char *m = out->machine, *dash;

	/* libvirt registers each QEMU domain with machined as "qemu-ID-NAME"
	 * (virDomainDriverGenerateMachineName, src/hypervisor/domain_driver.c); NAME may be
	 * shortened there, so the full -name guest= wins */
	bool libvirt_machine = !strncmp(m, "qemu-", 5) && m[5] >= '0' && m[5] <= '9' &&
			       (dash = strchr(m + 5, '-')) && dash[1];

	if (libvirt_machine || out->libvirt_hint) {
		if (out->named)
			snprintf(out->libvirt_domain, sizeof(out->libvirt_domain), "%s", out->name);
		else if (libvirt_machine)
			snprintf(out->libvirt_domain, sizeof(out->libvirt_domain), "%s", strchr(m + 5, '-') + 1);
	}
	if (out->named)
		return;
	if (out->libvirt_domain[0])
		snprintf(out->name, sizeof(out->name), "%s", out->libvirt_domain);
	else if (out->machine[0])
		snprintf(out->name, sizeof(out->name), "%s", out->machine);
	else if (out->vmid[0])
		snprintf(out->name, sizeof(out->name), "vmid-%s", out->vmid);
	else
		return;
	out->named = true;
}
