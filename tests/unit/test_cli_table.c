// SPDX-License-Identifier: MIT
/* Unit tests: the command tables. Every letter and long name means one option across all
 * commands; a common option parses to the same field with the same range in every command
 * that takes it; bad values are usage errors. Oracle: the values written on the command line. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include "unit.h"
#include "cli.h"
#include "cli_table.h"
#include "commands.h"

static int parse(const struct cli_command *cmd, struct cli_args *a, char *line)
{
	static char own[4096];
	char *argv[32], *save = NULL;
	int argc = 0;

	memset(a, 0, sizeof(*a));
	memset(own, 0, sizeof(own));
	assert_true(cmd->own_size <= sizeof(own));
	argv[argc++] = "vmmemtop";
	for (char *t = strtok_r(line, " ", &save); t && argc < 31; t = strtok_r(NULL, " ", &save))
		argv[argc++] = t;
	argv[argc] = NULL;
	return cli_parse(cmd, argc, argv, a, own);
}

static void test_one_meaning(void **state)
{
	const struct cli_opt *by_letter[128] = { 0 };

	(void)state;
	for (int c = 0; cli_commands[c]; c++)
		for (int i = 0; cli_commands[c]->opts[i]; i++) {
			const struct cli_opt *o = cli_commands[c]->opts[i];
			char letters[2] = { o->letter, o->alias_letter };

			for (int l = 0; l < 2; l++) {
				if (!letters[l])
					continue;
				/* the same letter is the same declaration, or a command's own option
				 * that spells the same long name */
				if (by_letter[(int)letters[l]] && by_letter[(int)letters[l]] != o)
					assert_string_equal(by_letter[(int)letters[l]]->name, o->name);
				by_letter[(int)letters[l]] = o;
				assert_int_not_equal(letters[l], 'h');	/* --help */
			}
		}
}

static void test_common_alike(void **state)
{
	static const struct cli_command *const cmds[] = { &cmd_view, &cmd_snapshot, &cmd_export, &cmd_advise,
							  &cmd_record, &cmd_replay };
	struct cli_args a;
	char line[256];

	(void)state;
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		snprintf(line, sizeof(line), "-d 2.5%s", cmds[i]->operand ? " f.rec" : "");
		assert_int_equal(parse(cmds[i], &a, line), -1);
		assert_true(a.interval_s == 2.5);
		snprintf(line, sizeof(line), "--interval 0.1%s", cmds[i]->operand ? " f.rec" : "");
		assert_int_equal(parse(cmds[i], &a, line), -1);
		assert_true(a.interval_s == 0.1);
		snprintf(line, sizeof(line), "-i 86401%s", cmds[i]->operand ? " f.rec" : "");
		assert_int_equal(parse(cmds[i], &a, line), EXIT_USAGE);
		snprintf(line, sizeof(line), "--delay 0.09%s", cmds[i]->operand ? " f.rec" : "");
		assert_int_equal(parse(cmds[i], &a, line), EXIT_USAGE);
	}
}

static void test_values(void **state)
{
	struct cli_args a;
	char l1[] = "-n 3 -p 5 -p 6 -N web -j -t 77 -q /run/q.sock -B kmod -v --syscall-tracepoints";
	char l2[] = "--iterations 0", l3[] = "--pid 0", l4[] = "--backend nope", l5[] = "extra";
	char l6[] = "--pid 4242 --pid 4243";
	char l7[] = "", l8[] = "a.rec b.rec", l9[] = "--backend synthetic:4";

	(void)state;
	assert_int_equal(parse(&cmd_snapshot, &a, l1), -1);
	assert_int_equal(a.count, 3);
	assert_int_equal(a.pid, 6);		/* the filters take the last */
	assert_int_equal(a.nr_pids, 2);
	assert_string_equal(a.name, "web");
	assert_true(a.json && a.core.verbose && a.core.syscall_tracepoints && a.live);
	assert_int_equal(a.core.nr_track, 1);
	assert_int_equal(a.core.track[0], 77);
	assert_int_equal(a.core.nr_qmp, 1);
	assert_string_equal(a.core.backend, "kmod");
	assert_int_equal(parse(&cmd_view, &a, l2), EXIT_USAGE);
	assert_int_equal(parse(&cmd_snapshot, &a, l3), EXIT_USAGE);
	assert_int_equal(parse(&cmd_snapshot, &a, l4), EXIT_USAGE);
	assert_int_equal(parse(&cmd_snapshot, &a, l5), EXIT_USAGE);
	assert_int_equal(parse(&cmd_ksm_forecast, &a, l6), -1);
	assert_int_equal(a.nr_pids, 2);
	assert_int_equal(a.pids[0], 4242);
	assert_int_equal(parse(&cmd_report, &a, l7), EXIT_USAGE);	/* FILE missing */
	assert_int_equal(parse(&cmd_report, &a, l8), EXIT_USAGE);	/* one too many */
	assert_int_equal(parse(&cmd_snapshot, &a, l9), -1);
	assert_string_equal(a.core.backend, "synthetic:4");
}

UNIT_TESTS(
	cmocka_unit_test(test_one_meaning),
	cmocka_unit_test(test_common_alike),
	cmocka_unit_test(test_values))
