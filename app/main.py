"""The lab's page: `panel serve app` serves this directory app."""

import panel as pn

pn.extension()

pn.Column(
    "# GAN Stability Lab",
    "The live lab (training, stabilizers, 2D/3D views) arrives with the engine and app issues. "
    "Meanwhile the datasets and metrics work from the command line:",
    pn.pane.Markdown("```\npython -m gan_core datasets\n"
                     "python -m gan_core data gauss3d5 --n 2500 --seed 0 --out samples.npy\n"
                     "python -m gan_core score gauss3d5 samples.npy\n```"),
    name="lab",
).servable(title="GAN Stability Lab")
