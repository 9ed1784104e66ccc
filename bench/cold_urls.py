#!/usr/bin/env python3
"""Catalog questions for bench/cold.sh: distinct GET URLs drawn from the catalog.

Usage: cold_urls.py FACTS.json OUTDIR COUNT SEED KIND...

FACTS.json is what bench/cold.sh reads from the database (genres,
certifications, samples of years, IMDb scores and prices, frequent and rare
stars and directors, people's names, title words with the number of sampled
documents holding them, titles, and ids_file: ids of real movies in random
order). For each KIND this writes
OUTDIR/KIND.txt: up to COUNT distinct requests, one a line, in the order
drawn (a duplicate draw is dropped, so once the common questions are used
up the later lines lean to rarer ones: a run that reads the first N lines
sees the intended shares), each line
"- PATH" (anonymous) or "A PATH" (sent with the favorites user's bearer
token). Every URL is canonical (always page and per_page, parameters in one
order), so two distinct lines are two distinct questions. Prints
"KIND distinct" per kind on stdout.

Kinds (docs/benchmarks.md, "Catalog cold path"):
  one        one filter alone: genre, certification, year, year range,
             imdb_min, price range, star, director
  multi      two or three of those filters together
  search     words from very common to rare, two words, people's full names
             and surnames, type-ahead prefixes of 3-5 letters
  sort       each of the 16 sorts, half of them with one filter
  deep       pages 50, 200 and 1000 (per_page 20) of a few lists and sorts;
             nearby pages (+-10%) only once those are used up
  favorites  GET /api/v1/favorites of the user with many favorites
  detail     GET /api/v1/movies/{id}, ids without repetition (up to 4 x COUNT)
  mix        the kinds above with the weights of MIX_WEIGHTS; list pages as
             PAGE_WEIGHTS (1-3 mostly)
"""
import json
import random
import sys
import urllib.parse

SORT_KEYS = ["name", "year", "price", "imdb", "votes", "popularity", "rating", "created_at"]
SORTS = SORT_KEYS + ["-" + k for k in SORT_KEYS]
# page of a list: 1 60%, 2 20%, 3 10%, 4-10 10%
PAGE_WEIGHTS = [(1, 60), (2, 20), (3, 10), (None, 10)]
PER_PAGE_WEIGHTS = [(20, 70), (10, 10), (12, 5), (24, 5), (30, 5), (50, 5)]
# the whole mix: shares of the kinds (percent)
# (pages 1-3: about 86% of all requests, detail counted as a first page)
MIX_WEIGHTS = [("one", 20), ("multi", 15), ("search", 20), ("sort", 20), ("detail", 15),
               ("favorites", 5), ("deep", 5)]
FILTERS = ["genre", "certification", "year", "year_range", "imdb_min", "price_range", "star",
           "director"]


def weighted(rng, pairs):
    total = sum(w for _, w in pairs)
    x = rng.uniform(0, total)
    for v, w in pairs:
        x -= w
        if x <= 0:
            return v
    return pairs[-1][0]


class Gen:
    def __init__(self, facts, rng):
        self.f = facts
        self.rng = rng
        words = [(w, n) for w, n in facts["words"] if w.isalpha() and len(w) >= 2]
        words.sort(key=lambda p: -p[1])
        self.very_common = [w for w, _ in words[:20]]
        for w in ("the", "love", "of"):
            if w not in self.very_common:
                self.very_common.append(w)
        self.common = [w for w, _ in words[20:200]] or self.very_common
        self.medium = [w for w, _ in words[200:2000]] or self.common
        self.rare = [w for w, n in words if n <= 2] or self.medium
        # real ids in random order (the seed may leave gaps in the range)
        with open(facts["ids_file"], encoding="ascii") as f:
            self.ids = [int(line) for line in f if line.strip()]
        self.prefix_src = [w for w in self.common + self.medium if len(w) >= 5] or ["godfather"]

    def page(self):
        p = weighted(self.rng, PAGE_WEIGHTS)
        return p if p is not None else self.rng.randint(4, 10)

    def per_page(self):
        return weighted(self.rng, PER_PAGE_WEIGHTS)

    def person(self, kind):
        top, rare, anyp = self.f[kind + "_top"], self.f[kind + "_rare"], self.f[kind + "_any"]
        r = self.rng.random()
        pool = top if r < 0.4 else rare if r < 0.6 else anyp
        return self.rng.choice(pool or anyp or top)

    def filt(self, name):
        r, f = self.rng, self.f
        if name == "genre":
            return [("genre", r.choice(f["genres"]))]
        if name == "certification":
            return [("certification", r.choice(f["certs"]))]
        if name == "year":
            return [("year", r.choice(f["years"]))]
        if name == "year_range":
            y = r.choice(f["years"])
            return [("year_min", y), ("year_max", y + r.choice([4, 9, 19]))]
        if name == "imdb_min":
            return [("imdb_min", "%.1f" % min(9.5, max(1.0, r.choice(f["imdbs"]))))]
        if name == "price_range":
            lo = int(r.choice(f["prices"]))
            return [("price_min", lo), ("price_max", lo + r.choice([1, 3, 5, 10]))]
        if name == "star":
            return [("star", self.person("stars"))]
        if name == "director":
            return [("director", self.person("directors"))]
        raise ValueError(name)

    def search_text(self):
        r = self.rng
        c = r.random()
        if c < 0.15:
            return r.choice(self.very_common)
        if c < 0.30:
            return r.choice(self.common)
        if c < 0.45:
            return r.choice(self.medium)
        if c < 0.60:
            return r.choice(self.rare)
        if c < 0.75:  # two words: from a real title, or two words at random
            if r.random() < 0.5:
                t = [w for w in "".join(ch if ch.isalnum() else " " for ch in r.choice(self.f["titles"]).lower()).split()
                     if len(w) >= 2]
                if len(t) >= 2:
                    i = r.randrange(len(t) - 1)
                    return t[i] + " " + t[i + 1]
            return r.choice(self.common + self.very_common) + " " + r.choice(self.medium + self.rare)
        if c < 0.83:
            return r.choice(self.f["names"])
        if c < 0.90:
            return r.choice(self.f["names"]).split()[-1]
        w = r.choice(self.prefix_src)
        return w[: r.randint(3, 5)]

    @staticmethod
    def url(path, params):
        return path + "?" + "&".join(
            k + "=" + (urllib.parse.quote(v, safe="-") if isinstance(v, str) else str(v))
            for k, v in params)

    def list_url(self, filters, sort=None, page=None, per_page=None, path="/api/v1/movies"):
        params = list(filters)
        if sort:
            params.append(("sort", sort))
        params.append(("page", page if page is not None else self.page()))
        params.append(("per_page", per_page if per_page is not None else self.per_page()))
        return self.url(path, params)

    # --- kinds: each returns one line ---
    def one(self):
        return "- " + self.list_url(self.filt(self.rng.choice(FILTERS)))

    def multi(self):
        names = self.rng.sample(FILTERS, self.rng.choice([2, 3]))
        if "year" in names and "year_range" in names:
            names.remove("year")
        fs = [p for n in sorted(names, key=FILTERS.index) for p in self.filt(n)]
        return "- " + self.list_url(fs)

    def search(self):
        return "- " + self.list_url([("search", self.search_text())])

    def sort(self):
        fs = self.filt(self.rng.choice(FILTERS)) if self.rng.random() < 0.5 else []
        return "- " + self.list_url(fs, sort=self.rng.choice(SORTS))

    def deep_lists(self):
        r = self.rng
        c = r.random()
        if c < 0.30:
            return []
        if c < 0.55:
            return self.filt("genre")
        if c < 0.65:
            return self.filt("certification")
        if c < 0.80:
            y = r.choice(self.f["years"]) // 10 * 10
            return [("year_min", y), ("year_max", y + 9)]
        if c < 0.90:
            return [("imdb_min", r.choice(["6.0", "7.0", "8.0"]))]
        return [("search", r.choice(self.very_common[:8]))]

    def deep(self, jitter=False):
        page = self.rng.choice([50, 200, 1000])
        if jitter:
            page += self.rng.randint(-page // 10, page // 10)
        sort = self.rng.choice(SORTS + [None])
        return "- " + self.list_url(self.deep_lists(), sort=sort, page=page, per_page=20)

    def favorites(self):
        r = self.rng
        c = r.random()
        fs = self.filt("genre") if c < 0.3 else [("search", self.search_text())] if c < 0.4 else []
        sort = r.choice(SORTS) if r.random() < 0.5 else None
        page = self.page() if r.random() < 0.8 else r.randint(11, 40)
        return "A " + self.list_url(fs, sort=sort, page=page, path="/api/v1/favorites")

    def mix(self):
        k = weighted(self.rng, MIX_WEIGHTS)
        if k == "detail":
            return "- /api/v1/movies/%d" % self.rng.choice(self.ids)
        return getattr(self, k)()


def generate(gen, kind, count):
    if kind == "detail":  # fast: up to 4 x COUNT, at most every movie once
        return ["- /api/v1/movies/%d" % i for i in gen.ids[:4 * count]]
    make = getattr(gen, kind)
    seen, out = set(), []
    phases = [make] if kind != "deep" else [make, lambda: gen.deep(jitter=True)]
    for fn in phases:
        # stops at count, or when draws stop finding new questions
        part, misses, draws = [], 0, 0
        while len(seen) < count and misses < 5000 and draws < 4 * count:
            line = fn()
            draws += 1
            if line in seen:
                misses += 1
                continue
            misses = 0
            seen.add(line)
            part.append(line)
        out += part  # deep: the exact pages first, nearby ones after
    return out


def main():
    if len(sys.argv) < 6:
        sys.exit(__doc__)
    facts = json.load(open(sys.argv[1], encoding="utf-8"))
    outdir, count, seed = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    for kind in sys.argv[5:]:
        gen = Gen(facts, random.Random("%d-%s" % (seed, kind)))
        lines = generate(gen, kind, count)
        with open("%s/%s.txt" % (outdir, kind), "w", encoding="utf-8") as out:
            out.write("\n".join(lines) + "\n")
        print(kind, len(lines))


if __name__ == "__main__":
    main()
