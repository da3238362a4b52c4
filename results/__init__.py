"""The lab's committed measurements. Installed as the package ``ganlab_results`` so that what reads
them at run time (the lesson cards read claims.json) finds them outside a checkout too."""
