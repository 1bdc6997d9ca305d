/*
 * svg.c: the pictures, drawn as SVG text: the figures inline in pages (gauge, scale,
 * composition, impact split, bars, waterfall, distribution), the history chart and the badge.
 *
 * Figures inline in a page are decorative (aria-hidden): the page states each of their numbers
 * in text beside them. The history chart and the badge stand alone (role="img", a <title>
 * naming what they show). Only numbers computed here and texts escaped by pg_e() enter them.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "pages/pages_int.h"

const char *const pg_part_colours[5] = { "#0a3069", "#1a7f37", "#8250df", "#bc4c00", "#0969da" };
static const char *const part_keys[5] = { "task_resistance", "evidence", "barriers", "protective",
					  "growth" };
static const char *const part_names[5] = { "Task Resistance", "Evidence", "Barriers",
					   "Protective", "AI Growth" };

static double clampd(double x, double lo, double hi)
{
	return !isfinite(x) ? lo : x < lo ? lo : x > hi ? hi : x;
}

static void svg_open(struct pg *w, int width, int height)
{
	pg_f(w, "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" aria-hidden=\"true\" "
		"focusable=\"false\">", width, height);
}

/* ---------------------------------------------------------------------------------------
 * Figures of a role's page
 */

/* The point of a half-circle gauge at score s (0 left, 100 right, over the top). */
static void gauge_point(double s, double *x, double *y)
{
	double a = M_PI * (1.0 - clampd(s, 0, 100) / 100.0);

	*x = 110.0 + 90.0 * cos(a);
	*y = 105.0 - 90.0 * sin(a);
}

static void gauge_arc(struct pg *w, double from, double to, const char *colour, int width)
{
	double x0, y0, x1, y1;

	gauge_point(from, &x0, &y0);
	gauge_point(to, &x1, &y1);
	pg_f(w, "<path d=\"M%.2f %.2fA90 90 0 0 1 %.2f %.2f\" fill=\"none\" stroke=\"%s\" "
		"stroke-width=\"%d\"/>", x0, y0, x1, y1, colour, width);
}

void svg_gauge(struct pg *w, double score, const char *zone)
{
	double x, y;

	svg_open(w, 220, 120);
	gauge_arc(w, 0, 25, pg_zone_tint("red"), 18);
	gauge_arc(w, 25, 48, pg_zone_tint("yellow"), 18);
	gauge_arc(w, 48, 100, pg_zone_tint("green"), 18);
	if (score > 0.05)
		gauge_arc(w, 0, score, pg_zone_fg(zone), 8);
	gauge_point(score, &x, &y);
	pg_f(w, "<line x1=\"110\" y1=\"105\" x2=\"%.2f\" y2=\"%.2f\" stroke=\"#1f2328\" "
		"stroke-width=\"3\" stroke-linecap=\"round\"/><circle cx=\"110\" cy=\"105\" r=\"6\" "
		"fill=\"#1f2328\"/></svg>", x, y);
}

void svg_scale(struct pg *w, double score, const char *zone)
{
	double x = clampd(score, 0, 100) * 4.0 + 10.0;

	svg_open(w, 420, 40);
	pg_f(w, "<rect x=\"10\" y=\"14\" width=\"100\" height=\"12\" fill=\"%s\"/>"
		"<rect x=\"110\" y=\"14\" width=\"92\" height=\"12\" fill=\"%s\"/>"
		"<rect x=\"202\" y=\"14\" width=\"208\" height=\"12\" fill=\"%s\"/>",
	     pg_zone_tint("red"), pg_zone_tint("yellow"), pg_zone_tint("green"));
	pg_f(w, "<path d=\"M%.2f 12l-6-10h12z\" fill=\"%s\"/><rect x=\"%.2f\" y=\"12\" width=\"3\" "
		"height=\"16\" fill=\"%s\"/></svg>", x, pg_zone_fg(zone), x - 1.5, pg_zone_fg(zone));
}

void svg_composition(struct pg *w, json_t *composition)
{
	double x = 0;
	int i;

	svg_open(w, 500, 24);
	pg_s(w, "<rect width=\"500\" height=\"24\" fill=\"#eaeef2\"/>");
	for (i = 0; i < 5; i++) {
		double v = clampd(pg_num_of(composition, part_keys[i]), 0, 100) * 5.0;

		if (x + v > 500)
			v = 500 - x;
		if (v <= 0)
			continue;
		pg_f(w, "<rect x=\"%.2f\" width=\"%.2f\" height=\"24\" fill=\"%s\"/>", x, v,
		     pg_part_colours[i]);
		x += v;
	}
	pg_s(w, "</svg>");
}

void svg_split(struct pg *w, double displaced, double augmented, double not_involved)
{
	const double v[3] = { displaced, augmented, not_involved };
	const char *const colours[3] = { pg_zone_fg("red"), pg_zone_fg("yellow"), pg_zone_fg("green") };
	double x = 0;
	int i;

	svg_open(w, 500, 24);
	for (i = 0; i < 3; i++) {
		double wd = clampd(v[i], 0, 100) * 5.0;

		if (x + wd > 500)
			wd = 500 - x;
		if (wd <= 0)
			continue;
		pg_f(w, "<rect x=\"%.2f\" width=\"%.2f\" height=\"24\" fill=\"%s\"/>", x, wd,
		     colours[i]);
		x += wd;
	}
	pg_s(w, "</svg>");
}

void svg_share_bar(struct pg *w, double share, int score)
{
	const char *c = score >= 4 ? pg_zone_fg("red") : score >= 2 ? pg_zone_fg("yellow")
								    : pg_zone_fg("green");

	pg_f(w, "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 100 8\" "
		"preserveAspectRatio=\"none\" aria-hidden=\"true\" focusable=\"false\">"
		"<rect width=\"100\" height=\"8\" fill=\"#eaeef2\"/><rect width=\"%.2f\" height=\"8\" "
		"fill=\"%s\"/></svg>", clampd(share, 0, 100), c);
}

void svg_balance(struct pg *w, int value, int min, int max)
{
	double span = max > min ? (double)(max - min) : 1.0;
	double zero = 10.0 + (0 - min) / span * 380.0;
	double at = 10.0 + (clampd(value, min, max) - min) / span * 380.0;
	const char *c = value < 0 ? pg_zone_fg("red") : pg_zone_fg("green");

	svg_open(w, 400, 20);
	pg_f(w, "<rect x=\"10\" y=\"4\" width=\"380\" height=\"12\" fill=\"#eaeef2\"/>"
		"<rect x=\"%.2f\" y=\"4\" width=\"%.2f\" height=\"12\" fill=\"%s\"/>"
		"<rect x=\"%.2f\" y=\"1\" width=\"2\" height=\"18\" fill=\"#57606a\"/></svg>",
	     at < zero ? at : zero, fabs(at - zero), c, zero - 1.0);
}

void svg_waterfall(struct pg *w, json_t *composition, double total)
{
	double cum[6], lo = 0, hi = 100, x0, x1, scale;
	int i;

	/* Each part starts where the one before it ended; the total starts at 0. */
	cum[0] = 0;
	for (i = 0; i < 5; i++) {
		cum[i + 1] = cum[i] + clampd(pg_num_of(composition, part_keys[i]), -1000, 1000);
		lo = cum[i + 1] < lo ? cum[i + 1] : lo;
		hi = cum[i + 1] > hi ? cum[i + 1] : hi;
	}
	scale = 330.0 / (hi - lo);
	svg_open(w, 520, 6 * 30 + 10);
	for (i = 0; i < 6; i++) {
		double from = i < 5 ? cum[i] : 0, to = i < 5 ? cum[i + 1] : clampd(total, 0, 100);
		const char *c = i < 5 ? pg_part_colours[i] : "#1f2328";
		int y = 8 + i * 30;

		x0 = 120 + ((from < to ? from : to) - lo) * scale;
		x1 = 120 + ((from < to ? to : from) - lo) * scale;
		pg_f(w, "<text x=\"112\" y=\"%d\" text-anchor=\"end\" font-size=\"13\" "
			"fill=\"#1f2328\">%s</text>", y + 15, i < 5 ? part_names[i] : "Total");
		pg_f(w, "<rect x=\"%.2f\" y=\"%d\" width=\"%.2f\" height=\"20\" fill=\"%s\"/>", x0, y,
		     x1 - x0 < 1 ? 1 : x1 - x0, c);
		pg_f(w, "<text x=\"%.2f\" y=\"%d\" font-size=\"13\" fill=\"#1f2328\">%s%.1f</text>",
		     x1 + 6, y + 15, i < 5 && to - from >= 0 ? "+" : "", i < 5 ? to - from : to);
	}
	pg_s(w, "</svg>");
}

/* ---------------------------------------------------------------------------------------
 * The index's distribution
 */

void svg_distribution(struct pg *w, const int bins[PAGES_BINS][3])
{
	static const char *const zones[3] = { "red", "yellow", "green" };
	int max = 1, i, z;

	for (i = 0; i < PAGES_BINS; i++) {
		int n = bins[i][0] + bins[i][1] + bins[i][2];
		max = n > max ? n : max;
	}
	svg_open(w, 520, 200);
	pg_s(w, "<line x1=\"20\" y1=\"170\" x2=\"510\" y2=\"170\" stroke=\"#57606a\"/>");
	for (i = 0; i < PAGES_BINS; i++) {
		double y = 170, x = 25 + i * 48.5;
		int n = bins[i][0] + bins[i][1] + bins[i][2];

		for (z = 0; z < 3; z++) {
			double h = bins[i][z] * 140.0 / max;

			if (h <= 0)
				continue;
			y -= h;
			pg_f(w, "<rect x=\"%.1f\" y=\"%.2f\" width=\"40\" height=\"%.2f\" fill=\"%s\"/>",
			     x, y, h, pg_zone_fg(zones[z]));
		}
		if (n)
			pg_f(w, "<text x=\"%.1f\" y=\"%.2f\" text-anchor=\"middle\" font-size=\"12\" "
				"fill=\"#1f2328\">%d</text>", x + 20, y - 4, n);
		pg_f(w, "<text x=\"%.1f\" y=\"186\" text-anchor=\"middle\" font-size=\"11\" "
			"fill=\"#57606a\">%d</text>", x - 4, i * 10);
	}
	pg_s(w, "<text x=\"506\" y=\"186\" text-anchor=\"middle\" font-size=\"11\" "
		"fill=\"#57606a\">100</text></svg>");
}

/* ---------------------------------------------------------------------------------------
 * The history chart
 */

#define H_W 640
#define H_H 260
#define H_X0 44
#define H_X1 620
#define H_Y0 20  /* score 100 */
#define H_Y1 210 /* score 0 */

static double hist_y(double score)
{
	return H_Y1 - clampd(score, 0, 100) / 100.0 * (H_Y1 - H_Y0);
}

static void hist_bands(struct pg *w)
{
	static const struct {
		double lo, hi;
		const char *zone, *name;
	} bands[] = { { 48, 100, "green", "Green" }, { 25, 48, "yellow", "Yellow" },
		      { 0, 25, "red", "Red" } };
	size_t i;

	for (i = 0; i < sizeof(bands) / sizeof(bands[0]); i++) {
		pg_f(w, "<rect x=\"%d\" y=\"%.2f\" width=\"%d\" height=\"%.2f\" fill=\"%s\"/>", H_X0,
		     hist_y(bands[i].hi), H_X1 - H_X0, hist_y(bands[i].lo) - hist_y(bands[i].hi),
		     pg_zone_tint(bands[i].zone));
		pg_f(w, "<text x=\"%d\" y=\"%.2f\" font-size=\"11\" fill=\"%s\">%s</text>", H_X0 + 6,
		     hist_y(bands[i].hi) + 13, pg_zone_fg(bands[i].zone), bands[i].name);
	}
	pg_f(w, "<g font-size=\"11\" fill=\"#57606a\" text-anchor=\"end\">"
		"<text x=\"%d\" y=\"%.2f\">100</text><text x=\"%d\" y=\"%.2f\">48</text>"
		"<text x=\"%d\" y=\"%.2f\">25</text><text x=\"%d\" y=\"%.2f\">0</text></g>",
	     H_X0 - 6, hist_y(100) + 4, H_X0 - 6, hist_y(48) + 4, H_X0 - 6, hist_y(25) + 4,
	     H_X0 - 6, hist_y(0) + 4);
}

/* "r3, 2026-11-24": a revision and its day. */
static void hist_label(struct pg *w, json_t *rev)
{
	char day[11];

	snprintf(day, sizeof(day), "%s", pg_str(rev, "created_at"));
	pg_f(w, "r%d, ", pg_int(rev, "revision"));
	pg_e(w, day);
}

void svg_history(struct pg *w, const char *title, json_t *revisions, int standalone)
{
	size_t n = json_array_size(revisions), i, k;
	json_t *first, *last;
	double x, step;

	if (n > PAGES_HISTORY_MAX)
		n = PAGES_HISTORY_MAX;
	first = json_array_get(revisions, n ? n - 1 : 0);
	last = json_array_get(revisions, 0);
	if (standalone)
		pg_s(w, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	pg_f(w, "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%d\" height=\"%d\" "
		"viewBox=\"0 0 %d %d\" role=\"img\" aria-labelledby=\"history-title\">"
		"<title id=\"history-title\">", H_W, H_H, H_W, H_H);
	pg_e(w, title);
	pg_f(w, ": the published score over %zu revision%s", n, n == 1 ? "" : "s");
	if (last) {
		pg_f(w, " (r%d to r%d), now ", pg_int(first, "revision"), pg_int(last, "revision"));
		pg_score(w, pg_num_of(last, "score"));
		pg_s(w, ", ");
		pg_e(w, pg_str(last, "label"));
	}
	pg_s(w, "</title><rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>");
	hist_bands(w);
	step = n > 1 ? (double)(H_X1 - H_X0 - 20) / (double)(n - 1) : 0;
	/* Oldest on the left: the array is newest first. */
	pg_s(w, "<polyline fill=\"none\" stroke=\"#1f2328\" stroke-width=\"2\" points=\"");
	for (i = 0; i < n; i++) {
		k = n - 1 - i;
		x = n > 1 ? H_X0 + 10 + step * (double)i : (H_X0 + H_X1) / 2.0;
		pg_f(w, "%s%.2f,%.2f", i ? " " : "", x,
		     hist_y(pg_num_of(json_array_get(revisions, k), "score")));
	}
	pg_s(w, "\"/>");
	for (i = 0; i < n; i++) {
		json_t *r = json_array_get(revisions, n - 1 - i);

		x = n > 1 ? H_X0 + 10 + step * (double)i : (H_X0 + H_X1) / 2.0;
		pg_f(w, "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"%s\" fill=\"%s\"/>", x,
		     hist_y(pg_num_of(r, "score")), n > 60 ? "2" : "4", pg_zone_fg(pg_str(r, "zone")));
	}
	if (last) {
		/* The first and the last revision, with their dates, under the axis. */
		pg_f(w, "<g font-size=\"11\" fill=\"#57606a\"><text x=\"%d\" y=\"%d\">", H_X0,
		     H_Y1 + 18);
		hist_label(w, first);
		if (n > 1) {
			pg_f(w, "</text><text x=\"%d\" y=\"%d\" text-anchor=\"end\">", H_X1, H_Y1 + 18);
			hist_label(w, last);
		}
		pg_s(w, "</text></g>");
	}
	pg_s(w, "</svg>");
	if (standalone)
		pg_s(w, "\n");
}

int pages_history_svg(struct buf *out, const char *title, json_t *revisions)
{
	struct pg w = PG_INIT(out);

	svg_history(&w, title, revisions, 1);
	return w.rc;
}

/* ---------------------------------------------------------------------------------------
 * The badge
 */

/* The width of text in 11 px Verdana, near enough to size a badge (shields.io sizes by the
 * font's widths; this table is coarser, and pads a little). */
static double text_width(const char *s)
{
	double wd = 0;

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c & 0xC0) == 0x80)
			continue;
		if (c == ' ' || c == '.' || c == ',' || c == ':')
			wd += 3.9;
		else if (strchr("ilIj!|'", c))
			wd += 3.4;
		else if (strchr("frt()", c))
			wd += 4.9;
		else if (strchr("mwMW", c))
			wd += 10.0;
		else if (c >= '0' && c <= '9')
			wd += 7.0;
		else if (c >= 'A' && c <= 'Z')
			wd += 7.6;
		else
			wd += 6.7;
	}
	return wd;
}

int pages_badge_svg(struct buf *out, double score, const char *zone, const char *label)
{
	struct pg w = PG_INIT(out);
	char right[64], zname[16];
	double lw, rw;
	size_t i;

	snprintf(zname, sizeof(zname), "%s", zone ? zone : "");
	if (zname[0] >= 'a' && zname[0] <= 'z')
		zname[0] = (char)(zname[0] - 32);
	for (i = 0; zname[i]; i++)
		if (!(zname[i] >= 'A' && zname[i] <= 'Z') && !(zname[i] >= 'a' && zname[i] <= 'z'))
			zname[i] = '?';
	snprintf(right, sizeof(right), "%.1f %s", clampd(score, 0, 100), zname);
	lw = floor(text_width("AI resistance") + 12);
	rw = floor(text_width(right) + 12);
	pg_f(&w, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"20\" "
		 "role=\"img\" aria-label=\"AI resistance: %s\"><title>AI resistance: %.1f, ",
	     lw + rw, right, clampd(score, 0, 100));
	pg_e(&w, label);
	pg_f(&w, "</title><linearGradient id=\"s\" x2=\"0\" y2=\"100%%\"><stop offset=\"0\" "
		 "stop-color=\"#bbb\" stop-opacity=\".1\"/><stop offset=\"1\" stop-opacity=\".1\"/>"
		 "</linearGradient><clipPath id=\"r\"><rect width=\"%.0f\" height=\"20\" rx=\"3\" "
		 "fill=\"#fff\"/></clipPath><g clip-path=\"url(#r)\"><rect width=\"%.0f\" height=\"20\" "
		 "fill=\"#555\"/><rect x=\"%.0f\" width=\"%.0f\" height=\"20\" fill=\"%s\"/>"
		 "<rect width=\"%.0f\" height=\"20\" fill=\"url(#s)\"/></g>",
	     lw + rw, lw, lw, rw, pg_zone_fg(zone), lw + rw);
	pg_f(&w, "<g fill=\"#fff\" text-anchor=\"middle\" font-family=\"Verdana,Geneva,DejaVu Sans,"
		 "sans-serif\" font-size=\"11\"><text x=\"%.1f\" y=\"14\">AI resistance</text>"
		 "<text x=\"%.1f\" y=\"14\">%s</text></g></svg>\n", lw / 2, lw + rw / 2, right);
	return w.rc;
}

int pages_favicon_svg(struct buf *out)
{
	/* The site's icon: a gauge on the Green zone's colour. */
	return buf_adds(out, "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 32 32\">"
			     "<rect width=\"32\" height=\"32\" rx=\"6\" fill=\"#1a7f37\"/>"
			     "<path d=\"M6 23a10 10 0 0 1 20 0\" fill=\"none\" stroke=\"#fff\" "
			     "stroke-width=\"3\"/><path d=\"M16 23l5-8\" stroke=\"#fff\" "
			     "stroke-width=\"2.5\" stroke-linecap=\"round\"/></svg>\n");
}
