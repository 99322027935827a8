"""The simulator's fixed text, as pure data: vocabularies (:mod:`~patternlimit.sim.corpus.words`), the prompt frames
and templates (:mod:`~patternlimit.sim.corpus.frames`) and the homework handouts
(:mod:`~patternlimit.sim.corpus.homework`). No code: the generators that read them live one level up, in
:mod:`patternlimit.sim`."""
