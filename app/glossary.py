"""One sentence for each number the page shows, stated once: the "Now" table's (i) hovers, the
charts' key and docs/metrics-explained.md say the same words (a test compares them).

A cube-frames dataset counts edges where a mixture counts modes: ``unit_words`` puts the unit
into the sentences that name it."""

from __future__ import annotations

# Metric -> its explanation; "{unit}" is "mode" or "edge", "{units}" its plural, "{a_unit}" with its article.
METRICS = {
    "captured": "{A_unit} is captured when at least one generated sample is high quality (within 3 standard "
                "deviations of it); captured {units} out of all is how much of the data G has found.",
    "covered": "{A_unit} is covered when it holds at least 10 % of its fair share of the high-quality samples: "
               "{a_unit} with only a stray sample is captured but not covered.",
    "hq": "High-quality (HQ) samples are the generated samples within 3 standard deviations of their nearest "
          "{unit}; more is sharper.",
    "ceiling": "The ceiling is the HQ share a perfect sampler is expected to reach, since some real samples "
               "lie beyond 3 standard deviations; a generator sharper than the data can exceed it.",
    "reverse_kl": "Reverse KL compares how the HQ samples share out among the {units} with the data's own "
                  "weights: 0 is a fair share everywhere, larger is more lopsided (undefined with no HQ sample).",
    "sample_distance": "The sample distance is the sliced Wasserstein distance between 2,500 generated samples "
                       "and as many data samples, in the data's units: 0 would be identical; it works for every "
                       "dataset, with or without {units}.",
    "floor": "The floor is the same distance between two independent draws of the data itself: a perfect "
             "generator scores about the floor, not 0.",
}

# The other rows of the "Now" table.
QUANTITIES = {
    "losses": "What D and G each minimise this step, under the objective shown above.",
    "d_outputs": "D's mean output on a batch of real and of generated samples: for a probability, 1/2 on both "
                 "means D cannot tell them apart.",
    "sigma_gamma": "σ: the standard deviation of the instance noise added to D's inputs; γ: the weight of Roth et "
                   "al.'s regularizer. Both in box units (the data scaled so that its box spans -1 to 1); 0 = off.",
    "beta": "β-GAN's inverse temperature: 0 trains on the uniform box, larger values on data heated less, "
            "∞ on the data itself.",
    "metrics_step": "The metrics are computed every few steps (Steps between metrics), on 2,500 fresh samples.",
}


def unit_words(text: str, unit: str = "mode") -> str:
    """``text`` with its {unit}, {units}, {a_unit} and {A_unit} filled in ("mode" or "edge")."""
    a_unit = ("an " if unit[0] in "aeiou" else "a ") + unit
    return text.format(unit=unit, units=unit + "s", a_unit=a_unit, A_unit=a_unit.capitalize())


def metric_explanation(name: str, unit: str = "mode") -> str:
    return unit_words(METRICS[name], unit)
