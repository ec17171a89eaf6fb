"""edgeser training: corpora, features, models, speaker-independent evaluation and int8 export.

Run it as ``python -m train --help``. It imports `edgeser` (features, windows, bundle format);
`edgeser` never imports it.
"""
