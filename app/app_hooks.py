"""Server hooks that `panel serve app` and `gan-lab-serve` run (Bokeh's directory apps). At
start, the settings taken from the environment are checked (the device, the thread count and the
server's limits: app/server_limits.py), the lecturer's address is printed with its token, and the
forkserver that gives each page its training process imports torch and the trainer (~2-4 s on a
slow CPU) before the server announces its address: the first page does not wait for it
(app/session.py)."""

from ganlab_app.server_limits import limits
from ganlab_app.session import start_training_server
from ganlab_datasets import ParameterError
from gan_core.device import pick_device, threads_from_environment


def on_server_loaded(server_context):
    try:  # a bad setting stops the server with its message, not every page
        threads_from_environment()
        pick_device()
        token = limits().lecturer_token
    except ParameterError as error:
        raise SystemExit(f"GAN Stability Lab server: {error}") from None
    context = server_context.application_context
    route = (context.url if context is not None else None) or "/app"
    print(f"GAN Stability Lab: the lecturer's page is {route}?lecturer={token} on this server's address",
          flush=True)
    start_training_server(wait=True)
