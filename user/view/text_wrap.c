// SPDX-License-Identifier: MIT
/* Word wrapping for the views (the advice pane's evidence, actions and commands). */
#include <string.h>
#include "text_wrap.h"

int text_wrap(const char *s, int width, int *start, int *len, int max)
{
	int n = 0, pos = 0, total = strlen(s);

	if (width < 1)
		width = 1;
	while (pos < total) {
		int end = pos, brk = -1, next;

		while (end < total && s[end] != '\n' && end - pos < width) {
			if (s[end] == ' ')
				brk = end;
			end++;
		}
		if (end < total && s[end] != '\n' && s[end] != ' ' && brk > pos)
			end = brk;		/* the line is full: break at the last space */
		next = end;
		while (end > pos && s[end - 1] == ' ')
			end--;
		if (n < max) {
			start[n] = pos;
			len[n] = end - pos;
		}
		n++;
		if (next < total && s[next] == '\n')
			next++;
		while (next < total && s[next] == ' ')
			next++;
		pos = next;
	}
	return n;
}
