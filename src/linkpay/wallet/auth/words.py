"""The word list device-login phrases are drawn from.

Short, common, lower-case ASCII words, easy to read aloud and type; no homophone
pairs. Three words from this list give ~24.8 bits; with a 10-minute lifetime and
rate-limited guesses that is far beyond guessing range.
"""

WORDS: tuple[str, ...] = tuple(
    """
    acorn actor adobe agent alarm album alley amber angle ankle apple apron arena armor
    arrow aspen atlas attic audio autumn avenue bacon badge bagel baker bamboo banjo barn
    basil basket beach beacon beetle bench berry bike bison blade blanket blossom board
    bonus boot bottle bounce bracket branch brave bread brick bridge brook broom bubble
    bucket buffalo bugle bundle butter button cabin cable cactus camel camera candle
    canoe canyon carbon cargo carpet carrot castle cedar cello chalk channel cheese cherry
    chess chimney chorus cider cinema circle citrus clover cobalt cocoa coffee comet
    compass copper coral cotton cousin crane crayon cricket crystal cupcake curtain
    cushion daisy dancer delta desert diamond dinner dolphin domino donkey dragon drum
    eagle easel echo elbow ember engine falcon feather fennel ferry fiddle fig finch
    flame flute forest fossil fountain fox galaxy garden garlic gecko ginger glacier
    globe goblet gold gorilla granite grape gravel guitar hammock harbor harvest hazel
    helmet heron hiking hockey honey horizon husky igloo island ivory jacket jaguar
    jasmine jelly jigsaw jungle kayak kettle kitten koala ladder lagoon lantern laptop
    lemon lentil lettuce library lilac lime lizard lobster locket lotus lunar magnet
    mango maple marble meadow melon meteor mint mirror mitten monkey mosaic muffin
    museum napkin nectar needle noodle nutmeg oasis ocean olive onion opera orange
    orbit orchid otter oyster paddle palace panda paper parrot pasta peanut pebble
    pencil pepper piano pickle pigeon pillow pilot planet plum pocket polka pony poppy
    potato pretzel pumpkin puzzle quartz quill rabbit radar radish rainbow raven
    reef ribbon river robin rocket rose saddle salmon sandal saturn scarf shovel
    silver sketch sleigh slipper snail socket sofa spider spoon squid statue stone
    sugar summit sunset swan table tango teapot tennis thimble thunder tiger toast
    tomato tortoise tractor trumpet tulip tunnel turnip umbrella valley velvet violin
    volcano waffle walnut walrus wagon whale willow window winter wizard yogurt zebra
    zipper
    """.split()
)
