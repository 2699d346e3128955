from actions.audience import looks_like_child


def test_child_cues():
    assert looks_like_child("jag är 12 och mamma skriker hela tiden")
    assert looks_like_child("Jag går i femman och pappa slår mig")
    assert looks_like_child("i'm 13 and my dad hits me")


def test_adults_are_not_children():
    assert not looks_like_child("Jag är 45 år och orolig för grannens barn")
    assert not looks_like_child("Hur ansöker man om bygglov?")
    assert not looks_like_child("")
