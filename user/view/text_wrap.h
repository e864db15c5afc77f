/* SPDX-License-Identifier: MIT */
/* Word wrapping for the views: where each line of a text starts and how long it is. */
#ifndef VMMEM_TEXT_WRAP_H
#define VMMEM_TEXT_WRAP_H

/* Split s into lines of at most width bytes, breaking after spaces (a word longer than
 * width is cut, never lost; newlines end a line). Fills start[i] and len[i] for up to max
 * lines (spaces at a break are dropped) and returns how many lines the whole text needs
 * (may exceed max). width < 1 is taken as 1. */
int text_wrap(const char *s, int width, int *start, int *len, int max);

#endif
