"""Server hooks that `panel serve app` and `gan-lab-serve` run (Bokeh's directory apps). At
start, the settings taken from the environment are checked, and the forkserver that gives each
page its training process imports torch and the trainer (~2-4 s on a slow CPU) before the server
announces its address: the first page does not wait for it (app/session.py)."""

from ganlab_app.session import start_training_server
from ganlab_datasets import ParameterError
from gan_core.device import pick_device, threads_from_environment


def on_server_loaded(server_context):
    try:  # a bad GANLAB_THREADS or GANLAB_DEVICE stops the server with its message, not every page
        threads_from_environment()
        pick_device()
    except ParameterError as error:
        raise SystemExit(f"GAN Stability Lab server: {error}") from None
    start_training_server(wait=True)
