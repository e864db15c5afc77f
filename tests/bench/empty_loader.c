// SPDX-License-Identifier: MIT
/* Loads and attaches every program of a BPF object, then waits for SIGTERM (bench baseline).
 * With --ids, loads them only and prints "ready NAME:ID..." (tests/tools/bpf_hold attaches
 * them by id, block by block, in the switch bench). */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	struct bpf_object *obj;
	struct bpf_program *prog;
	int ids = argc == 3 && !strcmp(argv[1], "--ids");

	if (argc != 2 + ids) {
		fprintf(stderr, "usage: empty_loader [--ids] OBJ\n");
		return 2;
	}
	obj = bpf_object__open_file(argv[1 + ids], NULL);
	if (!obj || bpf_object__load(obj)) {
		fprintf(stderr, "empty_loader: cannot load %s\n", argv[1 + ids]);
		return 1;
	}
	printf("ready");
	bpf_object__for_each_program(prog, obj) {
		struct bpf_prog_info info = { 0 };
		__u32 len = sizeof(info);

		if (ids) {
			if (bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len)) {
				fprintf(stderr, "empty_loader: no id for %s\n", bpf_program__name(prog));
				return 1;
			}
			printf(" %s:%u", bpf_program__name(prog), info.id);
		} else if (!bpf_program__attach(prog)) {
			fprintf(stderr, "empty_loader: cannot attach %s\n", bpf_program__name(prog));
			return 1;
		}
	}
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	printf("\n");
	fflush(stdout);
	while (!stop)
		pause();
	bpf_object__close(obj);
	return 0;
}
