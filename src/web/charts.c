/* Charts as inline SVG drawn on the server, so they read without JavaScript.
 * Colours come from presentation attributes and the stylesheet's classes:
 * the Content-Security-Policy forbids inline style. */
#include "web/web_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define W  640
#define H  240
#define ML 64 /* left margin: y labels */
#define MR 12
#define MT 12
#define MB 36 /* bottom margin: x labels */

void web__trim_decimal(const char *in, char *out, size_t cap)
{
	size_t n;

	snprintf(out, cap, "%s", in ? in : "");
	if (!strchr(out, '.'))
		return;
	n = strlen(out);
	while (n > 0 && out[n - 1] == '0')
		out[--n] = '\0';
	if (n > 0 && out[n - 1] == '.')
		out[--n] = '\0';
}

void web__fmt_ns(double ns, char *out, size_t cap)
{
	if (!isfinite(ns) || ns < 0)
		snprintf(out, cap, "–");
	else if (ns < 1e3)
		snprintf(out, cap, "%.0f ns", ns);
	else if (ns < 1e6)
		snprintf(out, cap, "%.1f µs", ns / 1e3);
	else if (ns < 1e9)
		snprintf(out, cap, "%.2f ms", ns / 1e6);
	else
		snprintf(out, cap, "%.2f s", ns / 1e9);
}

static void empty_chart(struct web_buf *b, const char *label)
{
	web_buf_appendf(b, "<svg class=\"chart\" viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"",
			W, H / 3);
	web__buf_html(b, label, strlen(label));
	web_buf_appendf(b,
			"\"><rect x=\"0.5\" y=\"0.5\" width=\"%d\" height=\"%d\" class=\"frame\" "
			"fill=\"none\"/><text x=\"%d\" y=\"%d\" text-anchor=\"middle\" "
			"class=\"muted\">no data yet</text></svg>",
			W - 1, H / 3 - 1, W / 2, H / 6 + 5);
}

static void fmt_num(double v, char *out, size_t cap)
{
	double a = fabs(v);

	if (a >= 1e6)
		snprintf(out, cap, "%.3g", v);
	else if (a >= 100)
		snprintf(out, cap, "%.0f", v);
	else if (a >= 1)
		snprintf(out, cap, "%.2f", v);
	else
		snprintf(out, cap, "%.4g", v);
}

static void open_svg(struct web_buf *b, const char *label)
{
	web_buf_appendf(b, "<svg class=\"chart\" viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"",
			W, H);
	web__buf_html(b, label, strlen(label));
	PUT(b, "\"><title>");
	web__buf_html(b, label, strlen(label));
	PUT(b, "</title>");
}

/* Horizontal grid lines with the y value at each. */
static void y_axis(struct web_buf *b, double lo, double hi, const char *unit)
{
	int i;

	for (i = 0; i <= 4; i++) {
		double v = lo + (hi - lo) * i / 4.0;
		double y = MT + (H - MT - MB) * (1.0 - i / 4.0);
		char t[32];

		fmt_num(v, t, sizeof(t));
		web_buf_appendf(
		    b,
		    "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" class=\"grid\" "
		    "stroke=\"currentColor\" stroke-opacity=\"0.15\"/>"
		    "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\" class=\"axis\">%s%s%s"
		    "</text>",
		    ML, y, W - MR, y, ML - 6, y + 4, t, unit && *unit ? " " : "", unit ? unit : "");
	}
}

void web__svg_line(struct web_buf *b, const char *label, const struct web_point *pts, size_t n,
		   const char *y_unit)
{
	double xlo, xhi, ylo, yhi;
	size_t i;

	if (n == 0) {
		empty_chart(b, label);
		return;
	}
	xlo = xhi = pts[0].x;
	ylo = yhi = pts[0].y;
	for (i = 1; i < n; i++) {
		xlo = fmin(xlo, pts[i].x);
		xhi = fmax(xhi, pts[i].x);
		ylo = fmin(ylo, pts[i].y);
		yhi = fmax(yhi, pts[i].y);
	}
	if (yhi - ylo < 1e-12) {
		double pad = fabs(yhi) * 0.01 + 1e-9;

		ylo -= pad;
		yhi += pad;
	}
	if (xhi - xlo < 1e-9)
		xhi = xlo + 1;
	open_svg(b, label);
	y_axis(b, ylo, yhi, y_unit);
	PUT(b, "<polyline class=\"series\" fill=\"none\" stroke=\"currentColor\" "
	       "stroke-width=\"2\" points=\"");
	for (i = 0; i < n; i++) {
		double x = ML + (W - ML - MR) * (pts[i].x - xlo) / (xhi - xlo);
		double y = MT + (H - MT - MB) * (1.0 - (pts[i].y - ylo) / (yhi - ylo));

		web_buf_appendf(b, "%s%.1f,%.1f", i ? " " : "", x, y);
	}
	PUT(b, "\"/>");
	for (i = 0; i < 2; i++) {
		time_t t = (time_t)(i ? xhi : xlo);
		struct tm tm;
		char s[32] = "";

		if (gmtime_r(&t, &tm))
			strftime(s, sizeof(s), "%Y-%m-%d %H:%M", &tm);
		web_buf_appendf(b,
				"<text x=\"%d\" y=\"%d\" text-anchor=\"%s\" class=\"axis\">%s UTC"
				"</text>",
				i ? W - MR : ML, H - 12, i ? "end" : "start", s);
	}
	PUT(b, "</svg>");
}

void web__svg_bars(struct web_buf *b, const char *label, const char *const *names,
		   const double *vals, size_t n)
{
	double hi = 0, bw;
	size_t i;

	for (i = 0; i < n; i++)
		hi = fmax(hi, vals[i]);
	if (n == 0 || hi <= 0) {
		empty_chart(b, label);
		return;
	}
	open_svg(b, label);
	y_axis(b, 0, hi, "");
	bw = (double)(W - ML - MR) / (double)n;
	for (i = 0; i < n; i++) {
		double h = (H - MT - MB) * vals[i] / hi;
		double x = ML + bw * (double)i;

		web_buf_appendf(b,
				"<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
				"height=\"%.1f\" fill=\"currentColor\"><title>",
				x + 1, MT + (H - MT - MB) - h, bw - 2, h);
		web__buf_html(b, names[i], strlen(names[i]));
		web_buf_appendf(b, ": %.0f</title></rect>", vals[i]);
		if (n <= 20 || i % 2 == 0) {
			web_buf_appendf(b,
					"<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\" "
					"class=\"axis small\">",
					x + bw / 2, H - MB + 14);
			web__buf_html(b, names[i], strlen(names[i]));
			PUT(b, "</text>");
		}
	}
	PUT(b, "</svg>");
}
