"""``python -m bench.category_guess``: how often the category guess finds the right service.

The demo year's descriptions (local/demo_year.py) are two or three fixed sentences a
service, too uniform to measure a guess on, so ``reports`` makes varied resident phrasings
instead: for each of the demo pack's services, English and Spanish sentences built from
parts (what is wrong, where, since when, how bad), some with typos (a letter dropped,
doubled or swapped), some in capitals, some with an address or an emoji, seeded. The
learned words are built from one part (the "town's past requests") and the guess measured
on another made with a different seed, so no test sentence was learned. Written into
docs/category-guess.md between its ``category-guess`` markers.
"""

from __future__ import annotations

import argparse
import random
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chalicelib.domain.catalogue import Catalogue
    from chalicelib.domain.category_guess import LearnedWords

DOC = Path(__file__).resolve().parent.parent / "docs" / "category-guess.md"
BEGIN, END = "<!-- category-guess:begin -->", "<!-- category-guess:end -->"
TRAIN_SEED, TEST_SEED = 11, 29
TRAIN_SIZE, TEST_SIZE = 1_200, 600
SPANISH_SHARE = 0.3
TYPO_SHARE = 0.25

# What residents say, per service: (English phrases, Spanish phrases). A report is one
# phrase, sometimes two, with a place and an aside around it.
PHRASES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "pothole": (
        ("pothole", "big hole in the road", "huge pothole", "the road is crumbling",
         "deep hole in the street that damaged my tire", "potholes all along the block",
         "sunken patch of pavement", "hole in the asphalt", "crater in the road",
         "my car hit a hole in the street"),
        ("hay un bache enorme", "baches en la calle", "un hoyo en la calle",
         "hueco grande en la carretera", "el pavimento esta roto con un hoyo",
         "bache profundo")),
    "streetlight_out": (
        ("streetlight out", "street light is dark", "the lamp post is not working",
         "light flickering all night", "street lamp burned out", "lights out on our street",
         "streetlight stays on during the day", "the light pole is dark"),
        ("la farola esta apagada", "no funciona la luz de la calle", "el poste de luz esta apagado",
         "la farola parpadea", "calle oscura, farola apagada")),
    "graffiti": (
        ("graffiti", "someone spray painted the wall", "tags on the bus shelter",
         "vandalism with paint on the fence", "graffiti on the bridge",
         "spray paint on the stop sign", "somebody tagged the garage door"),
        ("grafiti en la pared", "pintadas en la parada del autobus",
         "vandalismo con pintura en la cerca", "pintaron la pared con spray")),
    "missed_trash": (
        ("trash was not picked up", "missed garbage pickup", "recycling cart skipped",
         "they forgot our trash", "yard waste bags not collected", "garbage still at the curb",
         "leaf bags not picked up", "recycling not collected this week"),
        ("no recogieron la basura", "la basura sigue en la calle", "se olvidaron del reciclaje",
         "no pasaron a recoger la basura", "el contenedor de basura no lo vaciaron")),
    "downed_tree": (
        ("tree fell on the road", "large limb down across the sidewalk",
         "branches down after the storm", "fallen tree blocking the street",
         "tree split and leaning over the street", "big branch hanging over the road",
         "the wind knocked a tree down"),
        ("arbol caido en la calle", "una rama grande cayo en la acera",
         "ramas caidas despues de la tormenta", "el viento tumbo un arbol")),
    "illegal_dumping": (
        ("someone dumped a mattress", "old couch left in the alley",
         "tires dumped by the park", "pile of construction debris on the lot",
         "junk dumped behind the store", "furniture left on the side of the road",
         "bags of trash dumped in the woods"),
        ("tiraron un colchon en el callejon", "dejaron muebles viejos en la calle",
         "llantas tiradas en el parque", "escombros tirados en el terreno")),
    "abandoned_vehicle": (
        ("abandoned car", "car with flat tires parked for weeks",
         "vehicle without plates on our street", "truck has not moved in a month",
         "junk car parked in front of my house", "van abandoned by the park"),
        ("carro abandonado", "un coche estacionado hace semanas",
         "vehiculo sin placas en la calle", "auto abandonado con las llantas ponchadas")),
    "sidewalk_damage": (
        ("sidewalk is cracked", "uneven sidewalk, someone tripped",
         "sidewalk slab lifted by tree roots", "broken curb ramp at the corner",
         "crack in the sidewalk", "missing piece of sidewalk"),
        ("la acera esta rota", "grieta en la banqueta", "la rampa de la esquina esta rota",
         "la acera levantada por las raices")),
    "water_leak": (
        ("water leak", "water bubbling up through the pavement", "hydrant leaking",
         "water running down the street", "broken water main", "flooding from a pipe",
         "water meter leaking"),
        ("fuga de agua", "sale agua de la calle", "la boca de incendio gotea",
         "se rompio la tuberia de agua", "inundacion por una fuga")),
    "traffic_signal": (
        ("traffic light is out", "signal stuck on red", "walk signal button not working",
         "stoplight flashing at the intersection", "the traffic signal is dark",
         "light at the crossing never turns green"),
        ("el semaforo no funciona", "semaforo en rojo todo el tiempo",
         "el semaforo parpadea en el cruce")),
    "snow_ice": (
        ("street not plowed", "sidewalk is a sheet of ice", "plow blocked the driveway",
         "icy patch at the bus stop", "snow not cleared on our road", "road needs salt",
         "slippery ice on the hill"),
        ("la calle no la han limpiado de nieve", "hielo en la acera",
         "hay mucha nieve y no paso el quitanieves", "la calle esta resbalosa por el hielo")),
}
PLACES = ("outside 12 Oak St", "on Main Street", "near the school", "at Elm and 3rd",
          "in front of 405 Maple Ave", "by the library", "on our block", "")
LUGARES = ("en la calle Oak 12", "frente a la escuela", "en Main Street", "cerca del parque",
           "")
ASIDES = ("", "", "please fix", "been like this for a week", "it's dangerous",
          "again!!", "thanks", "someone will get hurt", "🙁")
COMENTARIOS = ("", "", "por favor", "desde hace una semana", "es peligroso", "gracias")


@dataclass(frozen=True)
class Report:
    service_code: str
    text: str
    spanish: bool


def _typo(rng: random.Random, text: str) -> str:
    """One letter dropped, doubled or swapped in one word of 5 letters or more."""
    long_words = [m for m in re.finditer(r"[A-Za-z]{5,}", text)]
    if not long_words:
        return text
    m = rng.choice(long_words)
    w = m.group()
    i = rng.randrange(1, len(w) - 1)
    kind = rng.randrange(3)
    if kind == 0:
        w = w[:i] + w[i + 1:]
    elif kind == 1:
        w = w[:i] + w[i] + w[i:]
    else:
        w = w[:i - 1] + w[i] + w[i - 1] + w[i + 1:]
    return text[:m.start()] + w + text[m.end():]


def reports(count: int, seed: int, part: int | None = None) -> list[Report]:
    """``count`` made-up resident reports, spread evenly over the services, seeded.
    ``part`` 0 or 1: only the even or the odd phrases of each service, so that a test set
    can be made of phrasings that the learned words never saw."""
    rng = random.Random(seed)
    codes = sorted(PHRASES)
    out = []
    for n in range(count):
        code = codes[n % len(codes)]
        english, spanish = (p[part::2] if part is not None else p for p in PHRASES[code])
        in_spanish = rng.random() < SPANISH_SHARE
        phrases = spanish if in_spanish else english
        parts = [rng.choice(phrases)]
        if rng.random() < 0.15:
            parts.append(rng.choice(phrases))
        place = rng.choice(LUGARES if in_spanish else PLACES)
        aside = rng.choice(COMENTARIOS if in_spanish else ASIDES)
        if rng.random() < 0.5:
            text = " ".join(p for p in (parts[0], place, *parts[1:], aside) if p)
        else:
            text = ". ".join(p for p in (place.capitalize(), *parts, aside) if p)
        if rng.random() < TYPO_SHARE:
            text = _typo(rng, text)
        if rng.random() < 0.1:
            text = text.upper()
        out.append(Report(code, text, in_spanish))
    return out


def learned_from(train: list[Report]) -> LearnedWords:
    from chalicelib.domain.category_guess import learn

    return learn((r.service_code, r.text) for r in train)


@dataclass
class Accuracy:
    total: int = 0
    top1: int = 0
    top3: int = 0
    none: int = 0

    def row(self, name: str) -> str:
        return (f"| {name} | {self.total} | {100 * self.top1 / self.total:.1f} % | "
                f"{100 * self.top3 / self.total:.1f} % | {self.none} |")


def measure(catalogue: Catalogue, test: list[Report], learned: LearnedWords | None
            ) -> dict[str, Accuracy]:
    from chalicelib.domain.category_guess import guess_services

    scores = {"all": Accuracy(), "English": Accuracy(), "Spanish": Accuracy()}
    for report in test:
        ranked = [g.service.code for g in guess_services(catalogue, report.text, learned)]
        for key in ("all", "Spanish" if report.spanish else "English"):
            score = scores[key]
            score.total += 1
            score.top1 += ranked[:1] == [report.service_code]
            score.top3 += report.service_code in ranked[:3]
            score.none += not ranked
    return scores


def evaluate() -> list[str]:
    from chalicelib.domain.category_guess import guess_services
    from chalicelib.services.towns import load_pack

    catalogue = load_pack("small_town")
    train = reports(TRAIN_SIZE, TRAIN_SEED, part=0)
    test = reports(TEST_SIZE, TEST_SEED, part=1)
    learned = learned_from(train)
    lines = [BEGIN, "",
             f"The demo pack's {len(PHRASES)} services (\"other\" left out: it has no words of "
             f"its own). Learned words from {TRAIN_SIZE:,} generated reports (seed "
             f"{TRAIN_SEED}, every other phrasing of each service); measured on {TEST_SIZE:,} "
             f"others (seed {TEST_SEED}) made only of the phrasings left out, "
             f"{round(100 * SPANISH_SHARE)} % in Spanish, {round(100 * TYPO_SHARE)} % with a "
             f"typo, 10 % in capitals. {len(learned.counts)} words learned.", "",
             "| guess from | reports | top-1 | top-3 | no guess |", "|---|---:|---:|---:|---:|"]
    for title, with_learned in (("catalogue and synonyms", None),
                                ("catalogue, synonyms and learned words", learned)):
        for name, score in measure(catalogue, test, with_learned).items():
            lines.append(score.row(f"{title} — {name}"))
    from local.demo_year import PATTERNS

    demo = [Report(p.code, text, False) for p in PATTERNS for text in p.texts]
    lines.append(measure(catalogue, demo, None)["all"].row(
        "the demo year's fixed sentences (local/demo_year.py, \"other\" included), "
        "catalogue and synonyms"))
    started = time.perf_counter()
    for report in test:
        guess_services(catalogue, report.text, learned)
    per_guess = (time.perf_counter() - started) / len(test)
    lines += ["", f"One guess with learned words took {per_guess * 1e6:,.0f} µs on average on "
              "the machine that wrote this (one core, warm).", "", END]
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.category_guess", description=__doc__)
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(argv)
    text = "\n".join(evaluate())
    print(text)
    if not args.no_write:
        doc = DOC.read_text() if DOC.exists() else ""
        pattern = re.compile(re.escape(BEGIN) + ".*?" + re.escape(END), re.S)
        DOC.write_text(pattern.sub(lambda _: text, doc) if pattern.search(doc)
                       else doc.rstrip("\n") + "\n\n" + text + "\n")


if __name__ == "__main__":
    main()
